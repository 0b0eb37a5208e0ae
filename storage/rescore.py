"""Rescoring jobs: which sessions a job covers, who may run it, and its counters.

A job covers completed sessions with stored audio that match every given part of its
scope and that its creator may see (`storage.access.visible_sessions`). A tutor naming a
course, exercise or learner outside the courses they teach is refused outright; session
ids the caller cannot see are "not found", as everywhere else. The worker side (the new
versions and the counters) is in `storage.rescore_tasks`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal, taught_course_ids, teaches_learner, visible_sessions
from storage.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storage.history import as_utc
from storage.models import (
    Exercise,
    JobStatus,
    PracticeSession,
    RescoreJob,
    SessionStatus,
    utcnow,
)

FINISHED = (JobStatus.COMPLETED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value)


@dataclass(frozen=True, slots=True)
class Scope:
    course_id: uuid.UUID | None = None
    exercise_id: uuid.UUID | None = None
    learner_id: uuid.UUID | None = None
    session_ids: tuple[uuid.UUID, ...] = ()
    since: datetime | None = None  # inclusive, on started_at
    until: datetime | None = None  # exclusive

    def stored(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("course_id", "exercise_id", "learner_id"):
            if (value := getattr(self, name)) is not None:
                out[name] = str(value)
        if self.session_ids:
            out["session_ids"] = [str(s) for s in self.session_ids]
        for name in ("since", "until"):
            if (value := getattr(self, name)) is not None:
                out[name] = as_utc(value).isoformat()
        return out

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = [
            PracticeSession.status == SessionStatus.COMPLETED.value,
            PracticeSession.audio_blob_key.is_not(None),
        ]
        if self.course_id is not None:
            found.append(PracticeSession.course_id == self.course_id)
        if self.exercise_id is not None:
            found.append(PracticeSession.exercise_id == self.exercise_id)
        if self.learner_id is not None:
            found.append(PracticeSession.learner_id == self.learner_id)
        if self.session_ids:
            found.append(PracticeSession.id.in_(self.session_ids))
        if self.since is not None:
            found.append(PracticeSession.started_at >= as_utc(self.since))
        if self.until is not None:
            found.append(PracticeSession.started_at < as_utc(self.until))
        return found


async def _check_staff_scope(db: AsyncSession, who: Principal, scope: Scope) -> None:
    if who.is_admin:
        return
    taught = set((await db.scalars(taught_course_ids(who.user_id))).all())
    if scope.course_id is not None and scope.course_id not in taught:
        raise PermissionDenied("tutors may rescore only courses they teach")
    if scope.exercise_id is not None:
        course = await db.scalar(select(Exercise.course_id).where(Exercise.id == scope.exercise_id))
        if course is None:
            raise NotFound("exercise not found", code="exercise_not_found")
        if course not in taught:
            raise PermissionDenied("tutors may rescore only exercises of courses they teach")
    if scope.learner_id is not None:
        if not await db.scalar(select(teaches_learner(who.user_id, scope.learner_id))):
            raise PermissionDenied("tutors may rescore only learners in courses they teach")


async def sessions_in_scope(db: AsyncSession, who: Principal, scope: Scope) -> list[uuid.UUID]:
    """The sessions a job with `scope` created by `who` covers, oldest first."""
    await _check_staff_scope(db, who, scope)
    if scope.session_ids:
        seen = set(
            (
                await db.scalars(
                    select(PracticeSession.id).where(
                        PracticeSession.id.in_(scope.session_ids), visible_sessions(who)
                    )
                )
            ).all()
        )
        missing = [str(s) for s in scope.session_ids if s not in seen]
        if missing:
            raise NotFound("sessions not found", code="sessions_not_found", session_ids=missing)
    stmt = (
        select(PracticeSession.id)
        .where(visible_sessions(who), *scope.clauses())
        .order_by(PracticeSession.started_at, PracticeSession.id)
    )
    return list((await db.scalars(stmt)).all())


async def create_job(
    db: AsyncSession,
    who: Principal,
    scope: Scope,
    options: dict[str, Any],
    *,
    max_sessions: int,
) -> tuple[RescoreJob, list[uuid.UUID]]:
    session_ids = await sessions_in_scope(db, who, scope)
    if len(session_ids) > max_sessions:
        raise InvalidInput(
            f"the scope covers {len(session_ids)} sessions; one job may cover {max_sessions}",
            code="job_too_large",
        )
    now = utcnow()
    empty = not session_ids
    job = RescoreJob(
        created_by=who.user_id,
        scope=scope.stored(),
        options=options,
        status=JobStatus.COMPLETED.value if empty else JobStatus.PENDING.value,
        total=len(session_ids),
        done=0,
        failed=0,
        failures=[],
        created_at=now,
        finished_at=now if empty else None,
    )
    db.add(job)
    await db.flush()
    return job, session_ids


def _visible_jobs(who: Principal) -> ColumnElement[bool]:
    # Tutors see the jobs they started; admins every job.
    return true() if who.is_admin else RescoreJob.created_by == who.user_id


async def list_jobs(db: AsyncSession, who: Principal, *, limit: int) -> list[RescoreJob]:
    stmt = (
        select(RescoreJob)
        .where(_visible_jobs(who))
        .order_by(RescoreJob.created_at.desc(), RescoreJob.id.desc())
        .limit(limit)
    )
    return list((await db.scalars(stmt)).all())


async def get_job(db: AsyncSession, who: Principal, job_id: uuid.UUID) -> RescoreJob:
    job = await db.scalar(select(RescoreJob).where(RescoreJob.id == job_id, _visible_jobs(who)))
    if job is None:
        raise NotFound("rescore job not found", code="job_not_found")
    return job


async def cancel_job(db: AsyncSession, who: Principal, job_id: uuid.UUID) -> RescoreJob:
    job = await get_job(db, who, job_id)
    if job.status in FINISHED:
        raise Conflict(f"the job is already {job.status}", code="job_finished")
    await db.execute(
        update(RescoreJob)
        .where(RescoreJob.id == job_id, RescoreJob.status.not_in(FINISHED))
        .values(status=JobStatus.CANCELLED.value, finished_at=utcnow())
    )
    await db.refresh(job)
    return job


async def fail_job(db: AsyncSession, job_id: uuid.UUID, reason: str) -> None:
    """The job could not be queued at all."""
    await db.execute(
        update(RescoreJob)
        .where(RescoreJob.id == job_id)
        .values(
            status=JobStatus.FAILED.value,
            finished_at=utcnow(),
            failures=[{"session_id": None, "reason": reason}],
        )
    )
