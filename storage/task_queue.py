"""The rescoring queue of a server without Redis, in the database (`rescore_queue`).

At-least-once, as the Redis stream is: a task is claimed by one consumer (a conditional
UPDATE, so two consumers never claim one task), renewed while it runs, deleted when done;
a claim older than `reclaim_idle_s` belonged to a consumer that died, and is claimed
again. `deliveries` counts the hand-outs since the task was last queued, so a task whose
worker keeps dying is dead-lettered like one that keeps failing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import QueuedTask, utcnow


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    job_id: uuid.UUID
    session_id: uuid.UUID
    failures: int
    deliveries: int


async def add(db: AsyncSession, tasks: Sequence[tuple[uuid.UUID, uuid.UUID, int]]) -> None:
    """Queue (job id, session id, failures so far) tasks."""
    db.add_all(QueuedTask(job_id=j, session_id=s, failures=f) for j, s, f in tasks)
    await db.flush()


def _claimable(reclaim_idle_s: float) -> ColumnElement[bool]:
    stale = utcnow() - timedelta(seconds=reclaim_idle_s)
    return (QueuedTask.dead.is_(False)) & or_(
        QueuedTask.claimed_at.is_(None), QueuedTask.claimed_at < stale
    )


async def claim(db: AsyncSession, consumer: str, *, reclaim_idle_s: float) -> Claimed | None:
    """The oldest task no live consumer holds, now `consumer`'s."""
    oldest = (
        select(QueuedTask.id)
        .where(_claimable(reclaim_idle_s))
        .order_by(QueuedTask.id)
        .limit(1)
        .scalar_subquery()
    )
    row = (
        await db.execute(
            update(QueuedTask)
            # The condition again: a consumer that claimed it meanwhile wins, this one
            # gets no row.
            .where(QueuedTask.id == oldest, _claimable(reclaim_idle_s))
            .values(
                claimed_by=consumer,
                claimed_at=utcnow(),
                deliveries=QueuedTask.deliveries + 1,
            )
            .returning(
                QueuedTask.id,
                QueuedTask.job_id,
                QueuedTask.session_id,
                QueuedTask.failures,
                QueuedTask.deliveries,
            )
        )
    ).one_or_none()
    return None if row is None else Claimed(*row)


async def renew(db: AsyncSession, task_id: int, consumer: str) -> None:
    await db.execute(
        update(QueuedTask)
        .where(QueuedTask.id == task_id, QueuedTask.claimed_by == consumer)
        .values(claimed_at=utcnow())
    )


async def remove(db: AsyncSession, task_id: int) -> None:
    await db.execute(delete(QueuedTask).where(QueuedTask.id == task_id))


async def requeue(db: AsyncSession, task_id: int, *, failures: int) -> None:
    await db.execute(
        update(QueuedTask)
        .where(QueuedTask.id == task_id)
        .values(failures=failures, deliveries=0, claimed_by=None, claimed_at=None)
    )


async def bury(db: AsyncSession, task_id: int, *, attempts: int, error: str) -> None:
    await db.execute(
        update(QueuedTask)
        .where(QueuedTask.id == task_id)
        .values(dead=True, failures=attempts, error=error, claimed_by=None, claimed_at=None)
    )


async def unclaim_all(db: AsyncSession) -> int:
    """Release every claim (at start-up of the only consumer: its claims are a dead
    process's); returns how many."""
    result = await db.execute(
        update(QueuedTask)
        .where(QueuedTask.dead.is_(False), QueuedTask.claimed_at.is_not(None))
        .values(claimed_by=None, claimed_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def buried(db: AsyncSession, limit: int) -> Sequence[QueuedTask]:
    stmt = select(QueuedTask).where(QueuedTask.dead.is_(True)).order_by(QueuedTask.id)
    return (await db.scalars(stmt.limit(limit))).all()


async def unfinished(db: AsyncSession) -> int:
    stmt = select(func.count()).select_from(QueuedTask).where(QueuedTask.dead.is_(False))
    return int(await db.scalar(stmt) or 0)
