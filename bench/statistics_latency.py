"""Statistics at scale: the usage statistics (JSON per day and per week, CSV), one learner's,
and what is due, against 100,000 stored sessions on PostgreSQL.

    .venv/bin/python bench/statistics_latency.py [--requests 300] [--concurrency 1]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--keep NAME] [--json]

Creates a scratch database (kept and reused with `--keep NAME`), seeds it with
bench/history_seed.py (2,000 learners in 50 courses of 40, 4 exercises each, 100,000
scored sessions over the last 180 days), gives each course's first two exercises due dates
30 and 7 days ago, and starts one `parley serve` on it. Each kind of request is then sent
`--requests` times by `--concurrency` clients back to back (closed loop), each time as the
tutor of a random course: the figures are each endpoint's latency, not the node's capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import make_url

from bench.history_load import POSTGRES, _sql
from bench.history_seed import seed
from bench.server import ADMIN_EMAIL, local_server, server_env
from bench.stats import pct
from rest.auth.tokens import TokenService
from rest.settings import AuthSettings
from storage.models import Role

DUE_DATES = """
UPDATE exercises SET due_at = now() - CASE position WHEN 0 THEN interval '30 days'
    ELSE interval '7 days' END
WHERE position < 2
"""


def kinds(since: str) -> dict[str, str]:
    """Path templates ({c}: a course, {l}: one of its learners) by the name reported."""
    half_year = f"period=week&since={since}"
    return {
        "course, 30 days by day": "/v1/courses/{c}/statistics",
        "course, 26 weeks by week": f"/v1/courses/{{c}}/statistics?{half_year}",
        "course CSV, 26 weeks": f"/v1/courses/{{c}}/statistics.csv?{half_year}",
        "learner, 26 weeks by week": f"/v1/courses/{{c}}/learners/{{l}}/statistics?{half_year}",
        "due": "/v1/courses/{c}/due",
    }


async def timed(
    url: str,
    template: str,
    ids: dict[str, list[str]],
    tokens: list[str],
    *,
    requests: int,
    concurrency: int,
) -> list[float]:
    rng = random.Random(5)
    courses = len(ids["courses"])
    latencies: list[float] = []
    queue = list(range(requests))
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def client() -> None:
            while queue:
                queue.pop()
                i = rng.randrange(courses)
                # history_seed puts learner j in course j % courses.
                learner = ids["learners"][rng.randrange(i, len(ids["learners"]), courses)]
                path = template.format(c=ids["courses"][i], l=learner)
                started = time.perf_counter()
                answer = await http.get(path, headers={"Authorization": f"Bearer {tokens[i]}"})
                latencies.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")

        await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


async def measure(args: argparse.Namespace, server_url: str, db: str) -> dict[str, Any]:
    ids_file = Path(tempfile.gettempdir()) / f"{make_url(db).database}.json"
    if not await _sql(db, "SELECT count(*) > 1000 FROM practice_sessions"):
        started = time.perf_counter()
        ids_file.write_text(json.dumps(await seed(db, args.sessions, 2000, 50)))
        await _sql(db, DUE_DATES)
        await _sql(db, "ANALYZE")
        print(f"seeded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    ids = json.loads(ids_file.read_text())
    secret = server_env(Path("."), {})["PARLEY_AUTH__SECRET_KEY"].encode()
    service = TokenService(AuthSettings(), secret)
    tokens = [service.issue(uuid.UUID(t), Role.TUTOR, "access") for t in ids["tutors"]]
    since = (datetime.now(UTC) - timedelta(weeks=26)).strftime("%Y-%m-%dT%H:%M:%SZ")
    results: dict[str, Any] = {}
    for name, template in kinds(since).items():
        # Warm up first: connections, caches, plans.
        await timed(server_url, template, ids, tokens, requests=10, concurrency=1)
        values = await timed(
            server_url, template, ids, tokens, requests=args.requests, concurrency=args.concurrency
        )
        results[name] = {
            "n": len(values),
            "p50_ms": round(pct(values, 0.50), 1),
            "p99_ms": round(pct(values, 0.99), 1),
            "max_ms": round(max(values), 1),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--keep", help="database name to create once and reuse")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    name = args.keep or f"parley_bench_{uuid.uuid4().hex[:8]}"
    db = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    exists = asyncio.run(
        _sql(args.postgres, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'")
    )
    if not exists:
        asyncio.run(_sql(args.postgres, f'CREATE DATABASE "{name}"'))
    else:  # kept from a previous run: local_server creates its admin again
        asyncio.run(_sql(db, f"DELETE FROM users WHERE email = '{ADMIN_EMAIL}'"))
    extra = {
        "PARLEY_DB__URL": db,
        "PARLEY_REALTIME__PRELOAD_MODEL": "false",
        "PARLEY_SERVER__SEED_DEMO": "false",
    }
    try:
        with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp), extra) as server:
            results = asyncio.run(measure(args, server.url, db))
    finally:
        if not args.keep:
            asyncio.run(_sql(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"| request ({args.concurrency} client(s)) | n | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    for kind, r in results.items():
        print(f"| {kind} | {r['n']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
