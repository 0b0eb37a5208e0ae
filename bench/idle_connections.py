"""Idle websocket connections one node holds, and the server memory each one costs.

    .venv/bin/python bench/idle_connections.py [--connections 5000]
        [--endpoint practice|observe] [--redis redis://127.0.0.1:6379/0]
        [--set PARLEY_SERVER__WS_PROTOCOL=wsproto ...] [--json]

Starts one `parley serve` (SQLite; in-memory hub unless `--redis`; model not preloaded),
opens `--connections` authenticated websockets to it from this process, in batches of 200,
and leaves them idle (`practice`: connected, no session; `observe`: subscribed to one
course each). Memory per connection = growth of the server's resident set (VmRSS from
/proc) from a warmed-up baseline (50 connections opened and closed first) to all
connections open, divided by their number. A sample of 100 connections is pinged at the
end to show they are all still served. Both processes raise their open-files soft limit
to the hard limit; the limit is reported.
Target (docs/BRIEF): >= 5,000 idle connections at <= 50 KiB each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.server import Server, local_server

BATCH = 200


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def open_one(url: str, first: str | None) -> ClientConnection:
    ws = await connect(url, open_timeout=60, ping_interval=None)
    if first is not None:
        await ws.send(first)
        answer = json.loads(await ws.recv())
        if answer["type"] != "subscribed":
            raise RuntimeError(f"subscribe refused: {answer}")
    return ws


async def measure(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    assert server.pid is not None
    url = f"{server.ws_url}/v1/ws/{args.endpoint}?access_token={server.admin_token}"
    first = None
    if args.endpoint == "observe":
        course = await _a_course(server)
        first = json.dumps({"type": "subscribe", "channel": {"kind": "course", "id": course}})
    warm = [await open_one(url, first) for _ in range(50)]
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1.0)
    baseline = rss_kib(server.pid)
    held: list[ClientConnection] = []
    started = time.monotonic()
    while len(held) < args.connections:
        size = min(BATCH, args.connections - len(held))
        held += await asyncio.gather(*(open_one(url, first) for _ in range(size)))
    opened_s = time.monotonic() - started
    await asyncio.sleep(2.0)  # idle: let the server settle
    loaded = rss_kib(server.pid)
    answered = 0
    for ws in random.sample(held, min(100, len(held))):
        await ws.send(json.dumps({"type": "ping", "id": "alive"}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        answered += reply["type"] == "pong"
    for start in range(0, len(held), BATCH):
        await asyncio.gather(*(ws.close() for ws in held[start : start + BATCH]))
    return {
        "endpoint": args.endpoint,
        "connections": len(held),
        "opened_in_s": round(opened_s, 1),
        "server_rss_baseline_mib": round(baseline / 1024, 1),
        "server_rss_loaded_mib": round(loaded / 1024, 1),
        "kib_per_connection": round((loaded - baseline) / len(held), 1),
        "sample_pinged": min(100, len(held)),
        "sample_answered": answered,
        "ulimit_n": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
    }


async def _a_course(server: Server) -> str:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
        course = await http.post("/v1/courses", json={"title": "Observed"})
        course.raise_for_status()
    course_id: str = course.json()["id"]
    return course_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--endpoint", choices=["practice", "observe"], default="practice")
    parser.add_argument("--redis", help="use the Redis hub (default: in memory)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE", help="a PARLEY_ setting"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the server
    if hard < args.connections + 100:
        print(f"error: open-files limit {hard} is below --connections", file=sys.stderr)
        return 2
    extra = {
        "PARLEY_REALTIME__PRELOAD_MODEL": "false",
        "PARLEY_REALTIME__IDLE_TIMEOUT_S": "3600",
    }
    if args.redis:
        extra["PARLEY_REDIS__URL"] = args.redis
    extra |= dict(item.split("=", 1) for item in args.set)
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        with local_server(Path(tmp), extra) as server:
            result = asyncio.run(measure(args, server))
    result["ulimit_n_before"] = soft
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['connections']} idle {args.endpoint} connections held "
            f"(opened in {result['opened_in_s']} s; {result['sample_answered']}/"
            f"{result['sample_pinged']} sampled still answer)"
        )
        print(
            f"server RSS {result['server_rss_baseline_mib']} -> "
            f"{result['server_rss_loaded_mib']} MiB: {result['kib_per_connection']} KiB per "
            f"connection (ulimit -n {soft} raised to {result['ulimit_n']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
