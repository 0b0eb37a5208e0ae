"""The worker loop: take a task, rescore it, then acknowledge, retry or dead-letter it.

A task is acknowledged only after its new evaluation is committed (or found already there),
so a worker killed at any point loses nothing: the queue hands the task to another worker,
whose attempt finds the committed version, or stores it. Each failure is retried until
`max_attempts`; then the failure is recorded on the job and the task goes to the
dead-letter list with its error.

Stopping (`stop` set, e.g. on SIGTERM): no new task is taken; tasks in hand get
`grace_s` to finish, then are cancelled and handed back to the queue for another worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from workers.queue import Delivery, Task, TaskQueue
from workers.task import Rescorer, TaskFailed, TaskOutcome

log = logging.getLogger("parley.workers")

# Where a finished task's progress goes (the hub, wired by the composition root); it raises
# PublishFailed when the event cannot go out, which costs the event, never the task.
Publish = Callable[[Task, TaskOutcome], Awaitable[None]]
# How long a worker backs off after the queue itself failed (Redis unreachable).
_BACKOFF_S = 1.0
# How often the embedded worker looks again whether live sessions still run.
_YIELD_POLL_S = 0.25


class PublishFailed(Exception):
    """A progress event could not be published (its transport is down)."""


class Worker:
    def __init__(
        self,
        *,
        queue: TaskQueue,
        rescorer: Rescorer,
        name: str,
        concurrency: int = 1,
        max_attempts: int = 3,
        keepalive_s: float = 20.0,
        publish: Publish | None = None,
        busy: Callable[[], bool] | None = None,
        max_yield_s: float = 10.0,
    ) -> None:
        """`busy`: True while live work should go first; a task then waits up to
        `max_yield_s` before it starts (the embedded worker of a server)."""
        self._queue = queue
        self._rescorer = rescorer
        self.name = name
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._keepalive_s = keepalive_s
        self._publish = publish
        self._busy = busy
        self._max_yield_s = max_yield_s
        self.handled = 0

    async def run(self, stop: asyncio.Event, *, grace_s: float = 30.0) -> None:
        loops = [asyncio.create_task(self._loop(stop)) for _ in range(self._concurrency)]
        late: set[asyncio.Task[None]] = set()
        try:
            await stop.wait()
            _, late = await asyncio.wait(loops, timeout=grace_s)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
        if late:
            log.warning("worker %s handed %d unfinished tasks back", self.name, len(late))

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self._yield_to_live(stop)
            try:
                delivery = await self._receive(stop)
                if delivery is not None:
                    await self._handle(delivery)
            except (RedisError, OSError) as exc:
                log.warning("rescoring queue unavailable: %s", exc)
                await self._pause(stop)
            except Exception:
                # The database or the blob store failing under us: the task, if any, stays
                # unacknowledged and comes back; this loop keeps serving.
                log.exception("rescoring worker %s: unexpected error", self.name)
                await self._pause(stop)

    async def _receive(self, stop: asyncio.Event) -> Delivery | None:
        """The next delivery, or None once `stop` is set (without waiting out the block)."""
        receiving = asyncio.create_task(self._queue.receive(self.name))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not receiving.done():
            # A Redis read cut short may leave an entry delivered to us; it is reclaimed
            # after `reclaim_idle_s` like any task of a stopped worker.
            receiving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiving
            return None
        delivery = receiving.result()
        if delivery is not None and stop.is_set():
            await self._queue.release(delivery)
            return None
        return delivery

    async def _pause(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _BACKOFF_S)

    async def _yield_to_live(self, stop: asyncio.Event) -> None:
        if self._busy is None:
            return
        waited = 0.0
        # Polled: live sessions come and go without telling the worker.
        while self._busy() and waited < self._max_yield_s and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _YIELD_POLL_S)
            waited += _YIELD_POLL_S

    async def _handle(self, delivery: Delivery) -> None:
        if delivery.attempt > self._max_attempts:
            # Delivered again and again without an outcome: each holder died on it.
            await self._give_up(delivery, f"no outcome after {delivery.attempt - 1} deliveries")
            return
        log.info(
            "rescoring session %s (job %s), attempt %d",
            delivery.task.session_id,
            delivery.task.job_id,
            delivery.attempt,
        )
        beat = asyncio.create_task(self._keepalive(delivery))
        try:
            outcome = await self._rescorer.run(delivery.task)
        except asyncio.CancelledError:
            await asyncio.shield(self._queue.release(delivery))
            raise
        except Exception as exc:
            reason = str(exc) if isinstance(exc, TaskFailed) else f"{type(exc).__name__}: {exc}"
            log.warning(
                "rescoring session %s (job %s), attempt %d: %s",
                delivery.task.session_id,
                delivery.task.job_id,
                delivery.attempt,
                reason,
            )
            if delivery.attempt >= self._max_attempts:
                await self._give_up(delivery, reason)
            else:
                await self._queue.retry(delivery)
            return
        finally:
            beat.cancel()
        await self._queue.ack(delivery)
        self.handled += 1
        await self._report(delivery.task, outcome)

    async def _give_up(self, delivery: Delivery, reason: str) -> None:
        outcome = await self._rescorer.fail(delivery.task, reason)
        await self._queue.dead_letter(delivery, reason)
        self.handled += 1
        await self._report(delivery.task, outcome)

    async def _keepalive(self, delivery: Delivery) -> None:
        while True:
            await asyncio.sleep(self._keepalive_s)
            try:
                await self._queue.keepalive(delivery, self.name)
            except (RedisError, OSError) as exc:
                log.warning("cannot renew task %s: %s", delivery.id, exc)

    async def _report(self, task: Task, outcome: TaskOutcome) -> None:
        if self._publish is None or outcome.progress is None:
            return
        try:
            await self._publish(task, outcome)
        except (PublishFailed, RedisError, OSError) as exc:
            log.warning("cannot publish rescoring progress: %s", exc)


def progress_event(task: Task, outcome: TaskOutcome) -> dict[str, object]:
    progress = outcome.progress
    assert progress is not None
    return {
        "type": "rescore_progress",
        "job_id": str(task.job_id),
        "session_id": str(task.session_id),
        "course_id": None if outcome.course_id is None else str(outcome.course_id),
        "result": outcome.result.value,
        "status": progress.status,
        "total": progress.total,
        "done": progress.done,
        "failed": progress.failed,
    }
