"""The rescoring queue of a server, and without Redis its embedded worker.

With Redis, jobs go to the shared stream and `parley worker` processes do the work. Without
it (the single-process default) the server runs the same worker code on a queue kept in the
database (`workers.queue_db`): one task at a time, on a one-thread model of its own, waiting
while live sessions run (up to `max_yield_s` per task), so rescoring never starves
learners; a restart picks the job up where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from rest.state import AppState
from storage.redis_keys import Keys
from workers.engines import Engines
from workers.queue import TaskQueue
from workers.queue_db import DatabaseTaskQueue
from workers.queue_redis import RedisTaskQueue
from workers.runner import Publish, Worker
from workers.task import LazyFeedback, Rescorer

log = logging.getLogger("parley")

# A stop does not wait long for the embedded worker: its tasks are kept in the database.
EMBEDDED_GRACE_S = 5.0


@contextlib.asynccontextmanager
async def rescoring(
    state: AppState, *, busy: Callable[[], bool] | None = None, publish: Publish | None = None
) -> AsyncIterator[TaskQueue | None]:
    """The queue jobs are sent to (None: rescoring is off), for the lifespan of the app.

    `busy`: True while live sessions run; `publish`: where the embedded worker's progress
    events go (`parley worker` processes publish on Redis themselves)."""
    settings = state.settings
    if state.redis is not None:
        yield RedisTaskQueue(state.redis, Keys(settings.redis.key_prefix), settings.workers)
        return
    if not settings.workers.embedded:
        yield None
        return
    queue = DatabaseTaskQueue(
        state.sessions,
        wait_s=settings.workers.block_s,
        reclaim_idle_s=settings.workers.reclaim_idle_s,
    )
    recovered = await queue.recover()
    if recovered:
        log.warning("rescoring: %d tasks of a stopped server are queued again", recovered)
    engines = Engines(settings.speech, default_model=settings.workers.model, threads=1)
    feedback = LazyFeedback(settings.llm)
    worker = Worker(
        queue=queue,
        rescorer=Rescorer(
            sessions=state.sessions, blobs=state.blobs, engines=engines, feedback=feedback
        ),
        name=f"{state.node_id}-embedded",
        concurrency=1,
        max_attempts=settings.workers.max_attempts,
        busy=busy,
        publish=publish,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop, grace_s=EMBEDDED_GRACE_S))
    log.info("rescoring runs embedded (no Redis configured)")
    try:
        yield queue
    finally:
        stop.set()
        await running
        await feedback.aclose()
        await asyncio.to_thread(engines.close)
