"""History at scale: the REST reads of learners and tutors against 100,000 stored sessions
on PostgreSQL, at a fixed arrival rate (open loop: a slow answer does not slow the arrivals,
so latency under overload is shown as it is).

    .venv/bin/python bench/history_load.py [--rates 100 250 500 750] [--seconds 10]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--keep NAME] [--json]

Creates a scratch database (kept and reused with `--keep NAME`), seeds it with
bench/history_seed.py, starts one `parley serve` on it and sends, per second, `rate`
requests in this mix: a learner's own sessions (first page, filtered by exercise, the next
page by its cursor) 40 %, one session's detail 25 %, a tutor's course sessions 20 %, a
tutor's learners and one learner's progress 15 %. Tokens are minted with the server's key
(no Argon2 logins). Latency runs from each request's scheduled time.
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
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.history_seed import seed
from bench.server import local_server, server_env
from bench.stats import pct
from rest.auth.tokens import TokenService
from rest.settings import AuthSettings
from storage.models import Role

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _sql(url: str, statement: str) -> Any:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


class Mix:
    def __init__(self, ids: dict[str, list[str]], tokens: TokenService, admin: str) -> None:
        self.ids, self.rng = ids, random.Random(11)
        self.learners = [
            tokens.issue(uuid.UUID(u), Role.LEARNER, "access") for u in ids["learners"]
        ]
        self.tutors = [tokens.issue(uuid.UUID(u), Role.TUTOR, "access") for u in ids["tutors"]]
        self.admin = admin

    def next(self) -> tuple[str, str, str]:
        """(kind, path, token) of the next request."""
        r, pick = self.rng.random(), self.rng.choice
        if r < 0.40:
            query = pick(["?limit=20", "?limit=20&status=completed", "?limit=50"])
            return "learner list", f"/v1/sessions{query}", pick(self.learners)
        if r < 0.65:
            return "session detail", f"/v1/sessions/{pick(self.ids['sessions'])}", self.admin
        if r < 0.85:
            i = self.rng.randrange(len(self.tutors))
            course = self.ids["courses"][i]
            return "tutor course list", f"/v1/sessions?course_id={course}&limit=20", self.tutors[i]
        i = self.rng.randrange(len(self.tutors))
        if self.rng.random() < 0.5:
            return "tutor learners", "/v1/tutor/learners?limit=50", self.tutors[i]
        learner = self.ids["learners"][
            self.rng.randrange(i, len(self.ids["learners"]), len(self.tutors))
        ]
        return "learner progress", f"/v1/tutor/learners/{learner}/progress", self.tutors[i]


async def step(url: str, mix: Mix, rate: float, seconds: float) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:

        async def one(kind: str, path: str, token: str, due: float) -> None:
            try:
                answer = await http.get(path, headers={"Authorization": f"Bearer {token}"})
                if answer.status_code != 200:
                    errors[f"{kind} {answer.status_code}"] += 1
                    return
                latencies[kind].append((time.perf_counter() - due) * 1000)
                cursor = answer.json().get("next_cursor") if kind == "learner list" else None
                if cursor:  # the next page, as a learner scrolling on
                    due = time.perf_counter()
                    more = await http.get(
                        f"{path}&cursor={cursor}", headers={"Authorization": f"Bearer {token}"}
                    )
                    if more.status_code == 200:
                        latencies["learner next page"].append((time.perf_counter() - due) * 1000)
            except httpx.HTTPError as exc:
                errors[f"{kind} {type(exc).__name__}"] += 1

        tasks, start = [], time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):
            due = start + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(*mix.next(), due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    rows = {
        kind: {
            "n": len(v),
            "p50_ms": round(pct(v, 0.50), 1),
            "p99_ms": round(pct(v, 0.99), 1),
        }
        for kind, v in sorted(latencies.items())
    }
    every = [x for v in latencies.values() for x in v]
    return {
        "rate": rate,
        "achieved_rate": round(total / elapsed, 1),
        "p50_ms": round(pct(every, 0.50), 1),
        "p99_ms": round(pct(every, 0.99), 1),
        "errors": dict(errors),
        "by_kind": rows,
    }


async def measure(
    args: argparse.Namespace, server_url: str, admin: str, db: str
) -> list[dict[str, Any]]:
    if not await _sql(db, "SELECT count(*) > 1000 FROM practice_sessions"):
        started = time.perf_counter()
        ids = await seed(db, args.sessions, 2000, 50)
        (Path(tempfile.gettempdir()) / f"{make_url(db).database}.json").write_text(json.dumps(ids))
        print(
            f"seeded {args.sessions} sessions in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    ids = json.loads((Path(tempfile.gettempdir()) / f"{make_url(db).database}.json").read_text())
    secret = server_env(Path("."), {})["PARLEY_AUTH__SECRET_KEY"].encode()
    mix = Mix(ids, TokenService(AuthSettings(), secret), admin)
    await step(server_url, mix, 50, 3)  # warm up: connections, caches, plans
    return [await step(server_url, mix, rate, args.seconds) for rate in args.rates]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 250, 500, 750])
    parser.add_argument("--seconds", type=float, default=10)
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
    extra = {
        "PARLEY_DB__URL": db,
        "PARLEY_REALTIME__PRELOAD_MODEL": "false",
        "PARLEY_SERVER__SEED_DEMO": "false",
    }
    try:
        with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp), extra) as server:
            results = asyncio.run(measure(args, server.url, server.admin_token, db))
    finally:
        if not args.keep:
            asyncio.run(_sql(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| rate /s | achieved | p50 ms | p99 ms | errors | slowest kind (p99) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        slowest = max(r["by_kind"].items(), key=lambda kv: kv[1]["p99_ms"])
        print(
            f"| {r['rate']:g} | {r['achieved_rate']} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{sum(r['errors'].values())} | {slowest[0]} {slowest[1]['p99_ms']} |"
        )
    for r in results:
        print(
            f"\nrate {r['rate']:g}/s: "
            + "; ".join(
                f"{k} p50 {v['p50_ms']} / p99 {v['p99_ms']} ms (n={v['n']})"
                for k, v in r["by_kind"].items()
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
