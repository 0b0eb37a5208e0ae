"""The rescoring queue of one server without Redis: the `TaskQueue` interface over the
database (`storage.task_queue`), so a job survives a restart and a crashed worker's task
is taken up again, with the same exactly-once counting as the Redis stream (the worker
counts in the transaction that stores the new version)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import task_queue
from workers.queue import DeadTask, Delivery, Task

# How often a consumer with nothing to do looks again (new tasks of this process wake it
# at once; this bounds the wait for ones another process queued).
_POLL_S = 0.5


class DatabaseTaskQueue:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        wait_s: float = 2.0,
        reclaim_idle_s: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._wait_s = wait_s
        self._reclaim_idle_s = reclaim_idle_s
        self._queued = asyncio.Event()

    async def recover(self) -> int:
        """At start-up of the only consumer: tasks claimed before are a dead process's,
        and are handed out again now rather than after `reclaim_idle_s`."""
        async with self._sessions.begin() as db:
            return await task_queue.unclaim_all(db)

    async def enqueue(self, tasks: Sequence[Task]) -> None:
        async with self._sessions.begin() as db:
            await task_queue.add(db, [(t.job_id, t.session_id, t.failures) for t in tasks])
        self._queued.set()

    async def receive(self, consumer: str) -> Delivery | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        while True:
            self._queued.clear()
            async with self._sessions.begin() as db:
                claimed = await task_queue.claim(db, consumer, reclaim_idle_s=self._reclaim_idle_s)
            if claimed is not None:
                task = Task(claimed.job_id, claimed.session_id, claimed.failures)
                return Delivery(str(claimed.id), task, claimed.failures + claimed.deliveries)
            left = deadline - loop.time()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(self._queued.wait(), min(left, _POLL_S))
            except TimeoutError:
                pass

    async def keepalive(self, delivery: Delivery, consumer: str) -> None:
        async with self._sessions.begin() as db:
            await task_queue.renew(db, int(delivery.id), consumer)

    async def ack(self, delivery: Delivery) -> None:
        async with self._sessions.begin() as db:
            await task_queue.remove(db, int(delivery.id))

    async def retry(self, delivery: Delivery) -> None:
        async with self._sessions.begin() as db:
            await task_queue.requeue(db, int(delivery.id), failures=delivery.attempt)
        self._queued.set()

    async def release(self, delivery: Delivery) -> None:
        async with self._sessions.begin() as db:
            await task_queue.requeue(db, int(delivery.id), failures=delivery.attempt - 1)
        self._queued.set()

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        async with self._sessions.begin() as db:
            await task_queue.bury(db, int(delivery.id), attempts=delivery.attempt, error=error)

    async def dead(self, limit: int = 100) -> list[DeadTask]:
        async with self._sessions() as db:
            rows = await task_queue.buried(db, limit)
        return [
            DeadTask(Task(r.job_id, r.session_id, r.failures), r.error or "", r.failures)
            for r in rows
        ]

    async def pending(self) -> int:
        async with self._sessions() as db:
            return await task_queue.unfinished(db)
