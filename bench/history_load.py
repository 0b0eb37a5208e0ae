"""History at scale: learners', tutors' and admins' reads of 100,000 stored sessions on
PostgreSQL, sent to one `parley serve` at fixed arrival rates (open loop: a slow answer does
not slow the arrivals, and latency runs from each request's scheduled time, so a backlog
shows as it is).

    .venv/bin/python bench/history_load.py [--rates 100 250 500 750 1000] [--seconds 15]
        [--sessions 100000] [--database parley_bench_history] [--keep] [--all]
        [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]

Creates the database (reused if `--keep` left it seeded with as many sessions), seeds it
with bench/history_seed.py, starts one node on it (limits off) and steps up the rate until a
step's p99 passes `--target-ms` (20) or a request fails (`--all` runs every rate). The mix
is bench/history_mix.py's. Each step reports latency per kind, the rate achieved, and the
CPU of the node, of PostgreSQL's backends, of this load generator and of the whole machine
(in cores: 1.0 is one core busy). Results go to var/bench/history_load-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvloop
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.history_mix import Mix, people
from bench.history_seed import seed
from bench.http1 import Pool
from bench.server import ADMIN_EMAIL, cpu_seconds, local_server, machine_busy_seconds, server_env
from bench.stats import pct
from rest.auth.tokens import TokenService
from rest.settings import AuthSettings

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TIMEOUT_S = 10.0  # a request not answered by then counts as failed


async def _sql(url: str, statement: str) -> Any:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(statement))
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving `database` (its pool's connections)."""
    found: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and f" {database} ".encode() in (proc / "cmdline").read_bytes():
                found[int(proc.name)] = cpu_seconds(int(proc.name))
        except OSError:  # the process ended meanwhile
            continue
    return found


Reading = tuple[float, float, dict[int, float], float, float]


class Meter:
    """CPU of the node, the database, this process and the machine, in cores, over a step."""

    def __init__(self, server_pid: int, database: str) -> None:
        self.pid, self.database = server_pid, database

    def read(self) -> Reading:
        return (
            time.perf_counter(),
            cpu_seconds(self.pid),
            postgres_cpu(self.database),
            time.process_time(),
            machine_busy_seconds(),
        )

    def cores(self, before: Reading, after: Reading) -> dict[str, float]:
        wall = after[0] - before[0]
        # Per backend: one that ended during the step takes its time with it, and summing
        # all backends before and after then came out negative. This counts the backends
        # alive at the end (a lower bound when the pool closed some meanwhile).
        db = sum(cpu - before[2].get(pid, 0.0) for pid, cpu in after[2].items())
        spent = {
            "node": after[1] - before[1],
            "postgres": db,
            "load_generator": after[3] - before[3],
            "machine": after[4] - before[4],
        }
        return {name: round(seconds / wall, 2) for name, seconds in spent.items()}


async def step(url: str, mix: Mix, meter: Meter, rate: float, seconds: float) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    pool = Pool(url, size=256)

    async def one(kind: str, path: str, token: str, due: float) -> None:
        try:
            async with asyncio.timeout_at(asyncio.get_running_loop().time() + TIMEOUT_S):
                status, body = await pool.get(path, token)
        except TimeoutError:
            errors[f"{kind}: no answer in {TIMEOUT_S:g} s"] += 1
            return
        except OSError as exc:
            errors[f"{kind}: {type(exc).__name__}"] += 1
            return
        if status != 200:
            errors[f"{kind}: HTTP {status}"] += 1
            return
        latencies[kind].append((time.perf_counter() - due) * 1000)
        mix.answered(kind, path, token, body)

    load_before, before = os.getloadavg()[0], meter.read()
    tasks, start = set(), time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(*mix.next(), due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    after, elapsed = meter.read(), time.perf_counter() - start
    pool.close()
    every = [x for v in latencies.values() for x in v]
    return {
        "rate": rate,
        "requests": total,
        "answered": len(every),
        "achieved_rate": round(len(every) / elapsed, 1),
        "p50_ms": round(pct(every, 0.50), 1),
        "p95_ms": round(pct(every, 0.95), 1),
        "p99_ms": round(pct(every, 0.99), 1),
        "max_ms": round(max(every, default=float("nan")), 1),
        "errors": dict(errors),
        "cpu_cores": meter.cores(before, after),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "by_kind": {
            kind: {
                "n": len(v),
                "p50_ms": round(pct(v, 0.50), 1),
                "p95_ms": round(pct(v, 0.95), 1),
                "p99_ms": round(pct(v, 0.99), 1),
            }
            for kind, v in sorted(latencies.items())
        },
    }


async def measure(args: argparse.Namespace, server: Any, db: str) -> list[dict[str, Any]]:
    secret = server_env(Path("."), {})["PARLEY_AUTH__SECRET_KEY"].encode()
    mix = Mix(await people(db), TokenService(AuthSettings(), secret), server.admin_token)
    meter = Meter(server.pid, make_url(db).database or "")
    await step(server.url, mix, meter, 50, 4)  # warm up: connections, caches, plans
    results = []
    for rate in args.rates:
        await asyncio.sleep(2)  # let the machine settle between steps
        results.append(await step(server.url, mix, meter, rate, args.seconds))
        r = results[-1]
        print(
            f"rate {rate:g}/s: achieved {r['achieved_rate']}/s, p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms, errors {sum(r['errors'].values())}, "
            f"cores {r['cpu_cores']}",
            file=sys.stderr,
        )
        if not args.all and (r["p99_ms"] > args.target_ms or r["errors"]):
            break
    return results


async def prepare(args: argparse.Namespace, db: str) -> None:
    """The database seeded with `args.sessions` sessions and no bench admin (the server's
    start-up creates one)."""
    from storage import migrate

    name = make_url(db).database
    exists = await _sql(args.postgres, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'")
    if exists:
        seeded = await _sql(db, "SELECT count(*) FROM practice_sessions")
        if seeded == args.sessions:
            await _sql(db, f"DELETE FROM users WHERE email = '{ADMIN_EMAIL}'")
            return
        await _sql(args.postgres, f'DROP DATABASE "{name}" WITH (FORCE)')
    await _sql(args.postgres, f'CREATE DATABASE "{name}"')
    await migrate.upgrade_async(db)
    started = time.perf_counter()
    await seed(db, args.sessions, 2000, 50)
    print(
        f"seeded {args.sessions} sessions in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| rate /s | achieved /s | p50 ms | p95 ms | p99 ms | errors | node | postgres | "
        "load gen. | machine | slowest kind (p99 ms) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        kinds: dict[str, dict[str, float]] = r["by_kind"]
        slowest = max(kinds.items(), key=lambda kv: kv[1]["p99_ms"], default=("-", {}))
        cores = r["cpu_cores"]
        lines.append(
            f"| {r['rate']:g} | {r['achieved_rate']} | {r['p50_ms']} | {r['p95_ms']} | "
            f"{r['p99_ms']} | {sum(r['errors'].values())} | {cores['node']} | "
            f"{cores['postgres']} | {cores['load_generator']} | {cores['machine']} | "
            f"{slowest[0]} {slowest[1].get('p99_ms', '')} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[100, 250, 500, 750, 1000])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--target-ms", type=float, default=20)
    parser.add_argument("--all", action="store_true", help="run every rate, past a failure")
    parser.add_argument("--postgres", default=POSTGRES)
    parser.add_argument("--database", default="parley_bench_history")
    parser.add_argument("--keep", action="store_true", help="keep the database for a rerun")
    args = parser.parse_args()
    db = make_url(args.postgres).set(database=args.database).render_as_string(hide_password=False)
    machine = {
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "top": subprocess.run(["top", "-bn1"], capture_output=True, text=True).stdout.split("\n")[
            :20
        ],
    }
    extra = {
        "PARLEY_DB__URL": db,
        "PARLEY_REALTIME__PRELOAD_MODEL": "false",
        "PARLEY_SERVER__SEED_DEMO": "false",
    }
    try:
        asyncio.run(prepare(args, db))
        with tempfile.TemporaryDirectory() as tmp, local_server(Path(tmp), extra) as server:
            results = uvloop.run(measure(args, server, db))
    finally:
        if not args.keep:
            asyncio.run(
                _sql(args.postgres, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            )
    out = Path("var/bench") / f"history_load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {"args": vars(args), "machine": machine, "steps": results}
    out.write_text(json.dumps(record, indent=2))
    print(table(results))
    for r in results:
        print(f"\nrate {r['rate']:g}/s, errors {r['errors'] or 'none'}:")
        for kind, v in r["by_kind"].items():
            figures = f"p50 {v['p50_ms']:7}  p95 {v['p95_ms']:7}  p99 {v['p99_ms']:7}"
            print(f"  {kind:34} n={v['n']:5}  {figures}")
    print(f"\n{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
