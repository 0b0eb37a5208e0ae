"""CPU per request of each history read, one kind at a time: the cost a node pays for a
learner's list, a session's detail or a tutor's dashboard, without queueing in the way.

    .venv/bin/python bench/history_cost.py --url http://127.0.0.1:PORT --pid PID [--requests 200]
        [--database postgresql+asyncpg://postgres@127.0.0.1:5432/parley_bench_history]

Runs against a node already serving a database seeded by bench/history_load.py --keep (its
process id gives the node's CPU, from /proc). Requests go one at a time on one keep-alive
connection; each kind reports the node's CPU milliseconds per request and the median
latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.history_mix import Mix, people
from bench.http1 import Pool
from bench.server import server_env
from bench.stats import pct
from rest.auth.tokens import TokenService
from rest.settings import AuthSettings

TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


async def main(args: argparse.Namespace) -> None:
    secret = server_env(Path("."), {})["PARLEY_AUTH__SECRET_KEY"].encode()
    admin = args.admin_token or ""
    mix = Mix(await people(args.database), TokenService(AuthSettings(), secret), admin)
    by_kind: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    while min((len(v) for v in by_kind.values()), default=0) < args.requests:
        kind, path, token = mix.next()
        if len(by_kind[kind]) < args.requests:
            by_kind[kind].append((kind, path, token))
        if len(by_kind) >= 20 and sum(map(len, by_kind.values())) > 40 * args.requests:
            break
    pool = Pool(args.url, 1)
    total_cpu = total_n = 0.0
    for kind, requests in sorted(by_kind.items()):
        if (kind.startswith("admin") and not admin) or (args.only and kind not in args.only):
            continue
        for _, path, token in requests[:10]:  # warm: plans, caches
            await pool.get(path, token)
        before, latencies = cpu_s(args.pid), []
        for _, path, token in requests:
            started = time.perf_counter()
            status, body = await pool.get(path, token)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise SystemExit(f"{kind} {path}: {status} {body[:200]!r}")
            mix.answered(kind, path, token, body)
        used = cpu_s(args.pid) - before
        total_cpu, total_n = total_cpu + used, total_n + len(requests)
        print(
            f"{kind:34} n={len(requests):4}  node CPU {used / len(requests) * 1000:5.2f} ms"
            f"  p50 {pct(latencies, 0.5):6.2f} ms"
        )
    print(f"{'all (unweighted)':34} node CPU {total_cpu / total_n * 1000:5.2f} ms per request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--admin-token", default="")
    parser.add_argument("--only", nargs="*", default=[], help="kinds to run, by name")
    parser.add_argument(
        "--database", default="postgresql+asyncpg://postgres@127.0.0.1:5432/parley_bench_history"
    )
    asyncio.run(main(parser.parse_args()))
