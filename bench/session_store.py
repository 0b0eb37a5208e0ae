"""Cost of making live audio durable in Redis (cross-node resume).

Appends one session's audio in 100 ms frames (16 kHz pcm_s16le, 3200 bytes) through
`RedisSessionStore`, one write at a time as a session's writer does, and prints the
append latency (p50/p99): the lag of `audio_received` behind the audio, and what `stop`
waits before `processing`. Then the load of the whole log, what a node taking the session
over reads before it can answer `ack`.

    .venv/bin/python -m bench.session_store [--redis redis://127.0.0.1:6379/0] [--seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

from redis.asyncio import Redis

from realtime.session_store import SessionState, token_digest
from realtime.session_store_redis import RedisSessionStore
from storage.practice import ExerciseInfo
from storage.redis_keys import Keys

FRAME = bytes(3200)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run(url: str, seconds: int) -> None:
    redis = Redis.from_url(url)
    store = RedisSessionStore(redis, keys=Keys(f"parley-bench-{uuid.uuid4().hex[:8]}"), ttl_s=600)
    exercise = ExerciseInfo(uuid.uuid4(), uuid.uuid4(), "read_aloud", "Bench", "text", None, None)
    state = SessionState(
        session_id=uuid.uuid4(),
        learner_id=uuid.uuid4(),
        exercise=exercise,
        sample_rate=16_000,
        interim=True,
        token_digest=token_digest("bench"),
        started_at=time.time(),
        node="bench",
    )
    try:
        await store.create(state, "bench/1", 10_000)
        latencies_ms: list[float] = []
        offset = 0
        for _ in range(seconds * 10):
            started = time.perf_counter()
            offset = await store.append(state.session_id, "bench/1", offset, FRAME)
            latencies_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        stored = await store.load(state.session_id)
        load_ms = (time.perf_counter() - started) * 1000
        assert stored is not None and len(stored.audio) == offset
        p50, p99 = percentile(latencies_ms, 0.5), percentile(latencies_ms, 0.99)
        print(f"append {len(FRAME)} B x {len(latencies_ms)}: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
        print(f"load of {offset} B ({seconds} s of audio): {load_ms:.1f} ms")
    finally:
        await store.delete(state.session_id, "bench/1")
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    asyncio.run(run(args.redis, args.seconds))


if __name__ == "__main__":
    main()
