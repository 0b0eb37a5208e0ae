"""The rescoring task queue seam: one task per (job, session), at-least-once delivery.

Two implementations share this interface: `workers.queue_redis.RedisTaskQueue` (a Redis
stream with a consumer group, for `parley worker` processes on any machine) and
`workers.queue_memory.MemoryTaskQueue` (one server without Redis). A delivery stays the
consumer's until it is acknowledged, retried, dead-lettered or released; the consumer
renews it (`keepalive`) while it works, and a delivery left alone for too long goes to
another consumer, so a crashed worker loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Task:
    """`failures`: attempts that ended in an error before this message was queued."""

    job_id: uuid.UUID
    session_id: uuid.UUID
    failures: int = 0

    def fields(self) -> dict[str, str]:
        return {
            "job_id": str(self.job_id),
            "session_id": str(self.session_id),
            "failures": str(self.failures),
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Task:
        return cls(
            job_id=uuid.UUID(fields["job_id"]),
            session_id=uuid.UUID(fields["session_id"]),
            failures=int(fields.get("failures", "0")),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One hand-out of a task. `attempt` counts from 1: earlier failures plus earlier
    deliveries of this same message (a worker that died while holding it)."""

    id: str
    task: Task
    attempt: int


@dataclass(frozen=True, slots=True)
class DeadTask:
    task: Task
    error: str
    attempts: int


class TaskQueue(Protocol):
    async def enqueue(self, tasks: Sequence[Task]) -> None: ...

    async def receive(self, consumer: str) -> Delivery | None:
        """The next task for `consumer`: one abandoned by a dead consumer first, else a
        new one; None when none arrived within the queue's wait."""
        ...

    async def keepalive(self, delivery: Delivery, consumer: str) -> None:
        """Tell the queue `consumer` still works on `delivery` (so it is not reclaimed)."""
        ...

    async def ack(self, delivery: Delivery) -> None:
        """Done for good: acknowledge and delete the entry."""
        ...

    async def retry(self, delivery: Delivery) -> None:
        """The attempt failed: queue the task again with one more failure counted."""
        ...

    async def release(self, delivery: Delivery) -> None:
        """Hand the task back untouched (a worker shutting down before finishing it)."""
        ...

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        """Give up: keep the task and its last error in the dead-letter list, then ack."""
        ...

    async def dead(self, limit: int = 100) -> list[DeadTask]:
        """The dead-letter entries, oldest first."""
        ...

    async def pending(self) -> int:
        """Tasks queued or in hand, not yet acknowledged."""
        ...
