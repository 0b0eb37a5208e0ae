"""Cross-node event latency: a session event published on node A, seen by a tutor on node B.

    .venv/bin/python bench/hub_latency.py [--rate 1000] [--seconds 10]
        [--redis redis://127.0.0.1:6379/0] [--json]

Node B is a real `parley serve` (SQLite, Redis, model not preloaded). Node A is a child
process of this script running the hub exactly as `parley serve` builds it (`rest.hub`),
with the same key prefix, publishing `interim_transcript` events through it at `--rate`
per second, as sessions do, each carrying its wall-clock send time. An admin observer
connected to node B's `/v1/ws/observe` (subscribed to `all`) time-stamps each event on
arrival. Latency = arrival - publish call, on one machine clock: it covers A's publish
queue, the Lua publish, Redis pub/sub, B's hub fan-out and B's observer websocket.
Reported: p50/p95/p99/max, events lost or out of order, the rate achieved.
Target (docs/BRIEF): p99 <= 20 ms at 1,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis
from websockets.asyncio.client import connect

from bench.server import cpu_seconds, local_server, machine_busy_seconds
from bench.stats import pct
from realtime.ports import SessionMeta
from realtime.protocol import InterimTranscript
from rest.hub import build_hub
from rest.settings import Settings
from storage.settings import RedisSettings


async def publish(args: argparse.Namespace) -> None:
    """Node A: the hub as a server builds it, fed at a steady rate."""
    settings = Settings(_env_file=None, redis=RedisSettings(url=args.redis, key_prefix=args.prefix))
    hub = build_hub(settings, "bench-node-a")
    await hub.start()
    meta = SessionMeta(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "Bench")
    total = int(args.rate * args.seconds)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(total):
        due = started + n / args.rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        hub.publish(meta, InterimTranscript(committed=repr(time.time()), tentative="", audio_ms=n))
    await asyncio.sleep(1.0)  # let the queue drain before closing
    await hub.aclose()


async def observe(
    args: argparse.Namespace, url: str, token: str, prefix: str, pid: int
) -> dict[str, Any]:
    latencies: list[float] = []
    numbers: list[int] = []
    total = int(args.rate * args.seconds)
    async with connect(f"{url}/v1/ws/observe?access_token={token}", max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "channel": {"kind": "all", "id": "*"}}))
        answer = json.loads(await ws.recv())
        assert answer["type"] == "subscribed", answer
        node_b_cpu, children_cpu = cpu_seconds(pid), _children_cpu()
        busy, wall = machine_busy_seconds(), time.monotonic()
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--publisher",
            "--redis",
            args.redis,
            "--prefix",
            prefix,
            "--rate",
            str(args.rate),
            "--seconds",
            str(args.seconds),
        )
        first: float | None = None
        try:
            async with asyncio.timeout(args.seconds + 30):
                while len(numbers) < total:
                    raw = await ws.recv()
                    arrived = time.time()
                    message = json.loads(raw)
                    if message["type"] != "event":
                        continue
                    inner = message["event"]["message"]
                    latencies.append((arrived - float(inner["committed"])) * 1000)
                    numbers.append(inner["audio_ms"])
                    first = first or arrived
        except TimeoutError:
            pass
        last = time.time()
        await child.wait()
        node_b_cpu = cpu_seconds(pid) - node_b_cpu
        children_cpu = _children_cpu() - children_cpu
        cores = os.cpu_count() or 1
        machine = (machine_busy_seconds() - busy) / (time.monotonic() - wall) / cores
    in_order = all(b == a + 1 for a, b in itertools.pairwise(numbers))
    return {
        "rate_target": args.rate,
        "events_sent": total,
        "events_received": len(numbers),
        "in_order": in_order,
        "rate_received": round(len(numbers) / max(last - (first or last), 1e-9), 1),
        "cpu_s": {
            "node_b": round(node_b_cpu, 2),
            "node_a_publisher": round(children_cpu, 2),
            "machine_busy_share": round(machine, 2),
        },
        "latency_ms": {
            name: round(pct(latencies, q), 2)
            for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
        },
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def forget(url: str, prefix: str) -> None:
    """Leave nothing behind in a shared Redis."""
    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        asyncio.run(publish(args))
        return 0
    prefix = f"parley-bench-{os.urandom(4).hex()}"
    extra = {
        "PARLEY_REDIS__URL": args.redis,
        "PARLEY_REDIS__KEY_PREFIX": prefix,
        "PARLEY_REALTIME__PRELOAD_MODEL": "false",
        "PARLEY_SERVER__NODE_ID": "bench-node-b",
    }
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        with local_server(Path(tmp), extra) as server:
            assert server.pid is not None
            result = asyncio.run(
                observe(args, server.ws_url, server.admin_token, prefix, server.pid)
            )
        asyncio.run(forget(args.redis, prefix))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        lat = result["latency_ms"]
        print(
            f"{result['events_received']}/{result['events_sent']} events at "
            f"{result['rate_received']}/s (target {args.rate:g}/s), in order: {result['in_order']}"
        )
        print(f"latency ms: p50 {lat['p50']}  p95 {lat['p95']}  p99 {lat['p99']}  max {lat['max']}")
        cpu = result["cpu_s"]
        print(
            f"CPU s: node B {cpu['node_b']}, node A (publisher) {cpu['node_a_publisher']}; "
            f"machine busy {cpu['machine_busy_share']:.0%} of all cores (others included)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
