"""Tutor dashboard aggregates: a page of learners with their figures, one learner's progress.

The figures are computed by the database (GROUP BY, a window for "latest"), never by
loading sessions into Python. A page of learners reads their running totals per course
(`LearnerCourseTotals`, kept by triggers); one learner's progress reads their sessions,
scoped by `storage.access.visible_sessions`. Either way a tutor's figures count only the
courses they teach, as their history list does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal, taught_course_ids, teaches_learner, visible_sessions
from storage.errors import NotFound
from storage.history import ExerciseRef, Person, Scores, as_utc, current_evaluation
from storage.models import (
    Course,
    Enrolment,
    EnrolmentRole,
    Evaluation,
    Exercise,
    LearnerCourseTotals,
    PracticeSession,
    Role,
    SessionStatus,
    User,
)


@dataclass(frozen=True, slots=True)
class LearnerStats:
    learner: Person
    session_count: int
    last_activity: datetime | None
    average: Scores  # of the current evaluations; a part is None when nothing is scored


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    session_id: uuid.UUID
    started_at: datetime
    course_id: uuid.UUID
    exercise: ExerciseRef
    scores: Scores


@dataclass(frozen=True, slots=True)
class ExerciseProgress:
    exercise: ExerciseRef
    attempts: int  # sessions of any status
    scored: int  # completed sessions with a current evaluation
    best_overall: float | None
    latest_overall: float | None
    average_overall: float | None
    last_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class Progress:
    learner: Person
    series: list[ProgressPoint]  # oldest first
    exercises: list[ExerciseProgress]


async def check_course(db: AsyncSession, principal: Principal, course_id: uuid.UUID) -> None:
    """NotFound unless the course exists and (for a tutor) the caller teaches it."""
    stmt = select(Course.id).where(Course.id == course_id)
    if principal.role is not Role.ADMIN:
        stmt = stmt.where(Course.id.in_(taught_course_ids(principal.user_id)))
    if await db.scalar(stmt) is None:
        raise NotFound("course not found")


def _sessions_scope(principal: Principal, course_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    scope = [visible_sessions(principal)]
    if course_id is not None:
        scope.append(PracticeSession.course_id == course_id)
    return scope


async def learners(
    db: AsyncSession,
    principal: Principal,
    *,
    course_id: uuid.UUID | None,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> tuple[list[LearnerStats], bool]:
    """Learners enrolled in the caller's courses by (display_name, id), and whether more follow."""
    enrolled = select(Enrolment.user_id).where(Enrolment.role == EnrolmentRole.LEARNER.value)
    if principal.role is not Role.ADMIN:
        enrolled = enrolled.where(Enrolment.course_id.in_(taught_course_ids(principal.user_id)))
    if course_id is not None:
        enrolled = enrolled.where(Enrolment.course_id == course_id)
    page = select(User.id, User.display_name).where(User.id.in_(enrolled))
    if after is not None:
        columns = (User.display_name, User.id)
        last = tuple_(*after, types=[c.type for c in columns])
        page = page.where(tuple_(*columns) > last)
    # The page is chosen first, so only its learners' totals are read: one row per learner
    # and course, kept by the database (`LearnerCourseTotals`), not their every session.
    chosen = page.order_by(User.display_name, User.id).limit(limit + 1).cte("page")
    totals = LearnerCourseTotals
    scope: list[ColumnElement[bool]] = [totals.learner_id.in_(select(chosen.c.id))]
    if principal.role is not Role.ADMIN:
        scope.append(totals.course_id.in_(taught_course_ids(principal.user_id)))
    if course_id is not None:
        scope.append(totals.course_id == course_id)

    def average(part: str) -> ColumnElement[Any]:
        total, count = getattr(totals, f"{part}_sum"), getattr(totals, f"{part}_n")
        return (func.sum(total) / func.nullif(func.sum(count), 0)).label(part)

    stats = (
        select(
            totals.learner_id,
            func.sum(totals.sessions).label("session_count"),
            func.max(totals.last_started_at).label("last_activity"),
            *(average(part) for part in ("accuracy", "fluency", "completeness", "overall")),
        )
        .where(*scope)
        .group_by(totals.learner_id)
        .subquery()
    )
    stmt = (
        select(chosen, stats)
        .outerjoin(stats, stats.c.learner_id == chosen.c.id)
        .order_by(chosen.c.display_name, chosen.c.id)
    )
    rows = (await db.execute(stmt)).all()
    found = [
        LearnerStats(
            learner=Person(r.id, r.display_name),
            session_count=r.session_count or 0,
            last_activity=None if r.last_activity is None else as_utc(r.last_activity),
            average=Scores(r.accuracy, r.fluency, r.completeness, r.overall),
        )
        for r in rows[:limit]
    ]
    return found, len(rows) > limit


async def learner(db: AsyncSession, principal: Principal, learner_id: uuid.UUID) -> Person:
    """The learner if `principal` is an admin, the learner, or teaches them; else NotFound."""
    stmt = select(User.id, User.display_name).where(User.id == learner_id)
    if principal.role is Role.LEARNER:
        stmt = stmt.where(User.id == principal.user_id)
    elif principal.role is not Role.ADMIN:
        stmt = stmt.where(teaches_learner(principal.user_id, learner_id))
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("learner not found")
    return Person(row.id, row.display_name)


async def progress(
    db: AsyncSession,
    principal: Principal,
    learner_id: uuid.UUID,
    *,
    course_id: uuid.UUID | None,
    since: datetime | None,
    limit: int,
) -> Progress:
    """The latest `limit` scored sessions (oldest first) and per-exercise figures."""
    found = await learner(db, principal, learner_id)
    scope = [PracticeSession.learner_id == learner_id, *_sessions_scope(principal, course_id)]
    if since is not None:
        scope.append(PracticeSession.started_at >= as_utc(since))
    completed = PracticeSession.status == SessionStatus.COMPLETED.value
    scored = and_(current_evaluation(), completed)

    points = (
        # The scores only: the whole evaluation row carries its words and phones as JSON,
        # and decoding them was most of this read's cost.
        select(
            PracticeSession.id,
            PracticeSession.started_at,
            PracticeSession.course_id,
            PracticeSession.exercise_id,
            Exercise.title,
            Exercise.kind,
            Evaluation.accuracy,
            Evaluation.fluency,
            Evaluation.completeness,
            Evaluation.overall,
        )
        .join(Exercise, Exercise.id == PracticeSession.exercise_id)
        .join(Evaluation, scored)
        .where(*scope)
        .order_by(PracticeSession.started_at.desc(), PracticeSession.id.desc())
        .limit(limit)
    )
    series = [
        ProgressPoint(
            session_id=r.id,
            started_at=as_utc(r.started_at),
            course_id=r.course_id,
            exercise=ExerciseRef(r.exercise_id, r.title, r.kind),
            scores=Scores(r.accuracy, r.fluency, r.completeness, r.overall),
        )
        for r in (await db.execute(points)).all()
    ]
    series.reverse()

    ranked = (
        select(
            PracticeSession.exercise_id,
            Evaluation.overall,
            func.row_number()
            .over(
                partition_by=PracticeSession.exercise_id,
                order_by=(PracticeSession.started_at.desc(), PracticeSession.id.desc()),
            )
            .label("rank"),
        )
        .join(Evaluation, scored)
        .where(*scope)
        .subquery()
    )
    latest = select(ranked.c.exercise_id, ranked.c.overall).where(ranked.c.rank == 1).subquery()
    totals = (
        select(
            PracticeSession.exercise_id,
            func.count(PracticeSession.id).label("attempts"),
            func.count(Evaluation.id).label("scored"),
            func.max(Evaluation.overall).label("best"),
            func.avg(Evaluation.overall).label("average"),
            func.max(PracticeSession.started_at).label("last_attempt_at"),
        )
        .outerjoin(Evaluation, scored)
        .where(*scope)
        .group_by(PracticeSession.exercise_id)
        .subquery()
    )
    per_exercise = (
        select(Exercise.id, Exercise.title, Exercise.kind, totals, latest.c.overall)
        .join(totals, totals.c.exercise_id == Exercise.id)
        .outerjoin(latest, latest.c.exercise_id == Exercise.id)
        .order_by(Exercise.course_id, Exercise.position, Exercise.title, Exercise.id)
    )
    exercises = [
        ExerciseProgress(
            exercise=ExerciseRef(r.id, r.title, r.kind),
            attempts=r.attempts,
            scored=r.scored,
            best_overall=r.best,
            latest_overall=r.overall,
            average_overall=r.average,
            last_attempt_at=as_utc(r.last_attempt_at),
        )
        for r in (await db.execute(per_exercise)).all()
    ]
    return Progress(found, series, exercises)
