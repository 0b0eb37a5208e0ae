"""The worker side of rescoring: a task's target, the new version, the job's counters.

Counting happens in the transaction that stores the new evaluation version, so `done` is
exactly the number of versions the job added. A redelivered task finds its version already
there (and the unique constraint on (session, job) settles a race between two workers) and
counts nothing; a failure is recorded once per session however often it is reported.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Evaluation,
    Exercise,
    JobStatus,
    PracticeSession,
    RescoreJob,
    utcnow,
)
from storage.practice import ExerciseInfo, Outcome, add_result
from storage.rubrics import for_marking


@dataclass(frozen=True, slots=True)
class Progress:
    job_id: uuid.UUID
    status: str
    total: int
    done: int
    failed: int


@dataclass(frozen=True, slots=True)
class Target:
    """What rescoring one session needs."""

    session_id: uuid.UUID
    course_id: uuid.UUID
    audio_key: str | None
    exercise: ExerciseInfo


async def target(db: AsyncSession, session_id: uuid.UUID) -> Target | None:
    row = (
        await db.execute(
            select(PracticeSession.course_id, PracticeSession.audio_blob_key, Exercise)
            .join(Exercise, Exercise.id == PracticeSession.exercise_id)
            .where(PracticeSession.id == session_id)
        )
    ).one_or_none()
    if row is None:
        return None
    ex: Exercise = row.Exercise
    info = ExerciseInfo(
        id=ex.id,
        course_id=ex.course_id,
        kind=ex.kind,
        title=ex.title,
        reference_text=ex.reference_text,
        prompt=ex.prompt,
        time_limit_s=ex.time_limit_s,
        # Rescoring re-marks against the rubric as it is now, and records that version.
        rubric=await for_marking(db, ex.id),
    )
    return Target(session_id, row.course_id, row.audio_blob_key, info)


async def job_status(db: AsyncSession, job_id: uuid.UUID) -> tuple[str, dict[str, Any]] | None:
    row = (
        await db.execute(
            select(RescoreJob.status, RescoreJob.options).where(RescoreJob.id == job_id)
        )
    ).one_or_none()
    return None if row is None else (row.status, dict(row.options))


async def mark_started(db: AsyncSession, job_id: uuid.UUID) -> None:
    await db.execute(
        update(RescoreJob)
        .where(RescoreJob.id == job_id, RescoreJob.status == JobStatus.PENDING.value)
        .values(status=JobStatus.RUNNING.value, started_at=utcnow())
    )


async def has_version(db: AsyncSession, job_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    found = await db.scalar(
        select(Evaluation.id).where(
            Evaluation.session_id == session_id, Evaluation.rescore_job_id == job_id
        )
    )
    return found is not None


async def _progress(db: AsyncSession, job_id: uuid.UUID) -> Progress:
    # Finish the job when this was its last task (done + failed reached total).
    await db.execute(
        update(RescoreJob)
        .where(
            RescoreJob.id == job_id,
            RescoreJob.status.in_([JobStatus.PENDING.value, JobStatus.RUNNING.value]),
            RescoreJob.done + RescoreJob.failed >= RescoreJob.total,
        )
        .values(
            # Every task failed: the job failed; otherwise it completed (failures listed).
            status=case(
                (RescoreJob.done == 0, JobStatus.FAILED.value), else_=JobStatus.COMPLETED.value
            ),
            finished_at=utcnow(),
        )
    )
    row = (
        await db.execute(
            select(RescoreJob.status, RescoreJob.total, RescoreJob.done, RescoreJob.failed).where(
                RescoreJob.id == job_id
            )
        )
    ).one()
    return Progress(job_id, row.status, row.total, row.done, row.failed)


async def count_done(db: AsyncSession, job_id: uuid.UUID) -> Progress:
    """One more session rescored (call in the transaction that stored its version)."""
    await db.execute(
        update(RescoreJob).where(RescoreJob.id == job_id).values(done=RescoreJob.done + 1)
    )
    return await _progress(db, job_id)


async def record_failure(
    db: AsyncSession, job_id: uuid.UUID, session_id: uuid.UUID, reason: str
) -> Progress | None:
    """A task failed for good; recorded once however often it is reported. None when the
    job is gone (nothing left to report to)."""
    job = await db.scalar(select(RescoreJob).where(RescoreJob.id == job_id).with_for_update())
    if job is None:
        return None
    if not any(f.get("session_id") == str(session_id) for f in job.failures):
        # A new list, so the JSON column is seen as changed.
        job.failures = [*job.failures, {"session_id": str(session_id), "reason": reason}]
        job.failed = job.failed + 1
        await db.flush()
    return await _progress(db, job_id)


async def add_version(
    db: AsyncSession,
    *,
    job_id: uuid.UUID,
    session_id: uuid.UUID,
    outcome: Outcome,
    make_current: bool,
) -> bool:
    """Store the job's new transcript and evaluation version of a session; False when the
    job already added one (a redelivered task). Raises IntegrityError only if another
    transaction added it concurrently, which the caller reports as "already done" too."""
    # The session row lock orders concurrent versioning of one session (PostgreSQL; SQLite
    # serialises writers anyway), so two jobs never pick the same next version number.
    await db.execute(
        select(PracticeSession.id).where(PracticeSession.id == session_id).with_for_update()
    )
    if await has_version(db, job_id, session_id):
        return False
    latest = await db.scalar(
        select(func.max(Evaluation.version)).where(Evaluation.session_id == session_id)
    )
    if make_current:
        await db.execute(
            update(Evaluation)
            .where(Evaluation.session_id == session_id, Evaluation.is_current.is_(True))
            .values(is_current=False)
        )
    await add_result(
        db,
        session_id,
        outcome,
        version=(latest or 0) + 1,
        is_current=make_current,
        rescore_job_id=job_id,
    )
    return True
