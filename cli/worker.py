"""`parley worker`: a rescoring worker process on the shared Redis stream.

It loads the default Whisper model before taking tasks, runs `workers.concurrency` tasks at
once, and on SIGTERM or SIGINT takes no new task, lets the ones in hand finish within
`workers.shutdown_grace_s`, and hands the rest back to the queue.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys

from rest.settings import Settings

log = logging.getLogger("parley.workers")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="run a rescoring worker (needs PARLEY_REDIS__URL)")
    p.add_argument("--concurrency", type=int, help="tasks at once (default: workers.concurrency)")
    p.add_argument("--name", help="consumer name in the group (default: hostname-pid)")
    p.set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.redis.url:
        print(
            "error: `parley worker` needs Redis (set PARLEY_REDIS__URL); without Redis the "
            "server rescores in-process",
            file=sys.stderr,
        )
        return 2
    if args.concurrency is not None and args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    concurrency = args.concurrency or settings.workers.concurrency
    name = args.name or f"{socket.gethostname()}-{os.getpid()}"
    asyncio.run(serve(settings, concurrency=concurrency, name=name))
    return 0


async def serve(settings: Settings, *, concurrency: int, name: str) -> None:
    # Imported here: the model stack takes most of a second to import.
    from redis.asyncio import Redis

    from realtime.bus_redis import RedisBus
    from rest.rescore_progress import HubProgress
    from storage.blob_factory import create_blob_store
    from storage.engine import create_engine, create_sessionmaker
    from storage.redis_keys import Keys
    from workers.engines import Engines
    from workers.queue_redis import RedisTaskQueue
    from workers.runner import Worker
    from workers.task import LazyFeedback, Rescorer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    engine = create_engine(settings.db)
    blobs = await create_blob_store(settings.blobs)
    redis = Redis.from_url(settings.redis.url or "")
    engines = Engines(settings.speech, default_model=settings.workers.model, threads=concurrency)
    feedback = LazyFeedback(settings.llm)
    keys = Keys(settings.redis.key_prefix)
    # Progress goes out on the hub's channels, as the nodes' own events do.
    bus = RedisBus(url=settings.redis.url or "", keys=keys, node_id=name, settings=settings.hub)
    try:
        await bus.start()
        await engines.get(None)
        queue = RedisTaskQueue(redis, keys, settings.workers)
        await queue.ensure_group()
        worker = Worker(
            queue=queue,
            rescorer=Rescorer(
                sessions=create_sessionmaker(engine),
                blobs=blobs,
                engines=engines,
                feedback=feedback,
            ),
            name=name,
            concurrency=concurrency,
            max_attempts=settings.workers.max_attempts,
            keepalive_s=settings.workers.reclaim_idle_s / 3,
            publish=HubProgress(bus.publish, name),
        )
        log.info("worker %s ready: %d at once, model %s", name, concurrency, engines.default_model)
        await worker.run(stop, grace_s=settings.workers.shutdown_grace_s)
        await queue.retire(name)
        log.info("worker %s stopped after %d tasks", name, worker.handled)
    finally:
        await feedback.aclose()
        await asyncio.to_thread(engines.close)
        await bus.aclose()
        await redis.aclose()
        await blobs.close()
        await engine.dispose()
