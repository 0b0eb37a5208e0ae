"""The rescoring queue of one server without Redis: the same interface, in memory.

Tasks live as long as the process: a server restarted mid-job leaves the job's remaining
tasks undone (its counters show how far it got), which is why a deployment with several
nodes or large jobs configures Redis and runs `parley worker`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Sequence

from workers.queue import DeadTask, Delivery, Task

DEAD_MAX = 1000


class MemoryTaskQueue:
    def __init__(self, *, wait_s: float = 2.0) -> None:
        self._wait_s = wait_s
        self._queue: asyncio.Queue[tuple[str, Task]] = asyncio.Queue()
        self._in_hand: set[str] = set()
        self._dead: deque[DeadTask] = deque(maxlen=DEAD_MAX)
        self._ids = itertools.count(1)

    async def enqueue(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            self._queue.put_nowait((str(next(self._ids)), task))

    async def receive(self, consumer: str) -> Delivery | None:
        try:
            entry_id, task = await asyncio.wait_for(self._queue.get(), self._wait_s)
        except TimeoutError:
            return None
        self._in_hand.add(entry_id)
        return Delivery(entry_id, task, task.failures + 1)

    async def keepalive(self, delivery: Delivery, consumer: str) -> None:
        """Nothing to renew: a task in hand is never reclaimed within one process."""

    async def ack(self, delivery: Delivery) -> None:
        self._in_hand.discard(delivery.id)

    async def retry(self, delivery: Delivery) -> None:
        task = delivery.task
        await self.ack(delivery)
        await self.enqueue([Task(task.job_id, task.session_id, failures=delivery.attempt)])

    async def release(self, delivery: Delivery) -> None:
        task = delivery.task
        await self.ack(delivery)
        await self.enqueue([Task(task.job_id, task.session_id, failures=delivery.attempt - 1)])

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        await self.ack(delivery)
        self._dead.append(DeadTask(delivery.task, error, delivery.attempt))

    async def dead(self, limit: int = 100) -> list[DeadTask]:
        return list(self._dead)[:limit]

    async def pending(self) -> int:
        return self._queue.qsize() + len(self._in_hand)
