"""Practice-session history: the paged list, one session's detail, and tutor feedback.

Every read goes through `storage.access.visible_sessions`, so the list and the single
reads share one rule and a session the caller may not see is "not found" everywhere.

The list is keyset-paged newest first on (started_at, id), which the composite indexes on
practice_sessions serve directly; the current evaluation is an outer join on the partial
unique index, so a page is one indexed query whatever the size of the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select, true, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal, visible_sessions
from storage.errors import NotFound
from storage.models import (
    Evaluation,
    Exercise,
    PracticeSession,
    SessionStatus,
    Transcript,
    TutorFeedback,
    User,
    utcnow,
)


def as_utc(value: datetime) -> datetime:
    """UTC, zone attached: SQLite drops zones on write, so every bound value must be UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Keyset:
    """The sort key of the last row of a page; the next page starts strictly after it."""

    started_at: datetime
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class SessionFilter:
    course_id: uuid.UUID | None = None
    exercise_id: uuid.UUID | None = None
    learner_id: uuid.UUID | None = None
    status: SessionStatus | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.course_id is not None:
            found.append(PracticeSession.course_id == self.course_id)
        if self.exercise_id is not None:
            found.append(PracticeSession.exercise_id == self.exercise_id)
        if self.learner_id is not None:
            found.append(PracticeSession.learner_id == self.learner_id)
        if self.status is not None:
            found.append(PracticeSession.status == self.status.value)
        if self.since is not None:
            found.append(PracticeSession.started_at >= as_utc(self.since))
        if self.until is not None:
            found.append(PracticeSession.started_at < as_utc(self.until))
        return found


@dataclass(frozen=True, slots=True)
class Person:
    id: uuid.UUID
    display_name: str


@dataclass(frozen=True, slots=True)
class ExerciseRef:
    id: uuid.UUID
    title: str
    kind: str


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float | None
    fluency: float | None
    completeness: float | None
    overall: float | None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    id: uuid.UUID
    learner: Person
    exercise: ExerciseRef
    course_id: uuid.UUID
    status: str
    started_at: datetime
    ended_at: datetime | None
    audio_duration_ms: int | None
    scores: Scores | None
    audio_blob_key: str | None
    failure_reason: str | None


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    id: uuid.UUID
    tutor: Person
    rating: int
    comment: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SessionDetail:
    summary: SessionSummary
    transcript: Transcript | None
    evaluations: Sequence[Evaluation]  # newest version first
    feedback: list[FeedbackEntry]


def current_evaluation() -> ColumnElement[bool]:
    """The join condition to a session's current evaluation (at most one, by index)."""
    return and_(Evaluation.session_id == PracticeSession.id, Evaluation.is_current)


def _summaries() -> Select[*tuple[Any, ...]]:
    # Columns, not the mapped PracticeSession: rows are only read out into summaries, and
    # building tracked ORM objects for a page of them cost more than the query.
    s = PracticeSession
    return (
        select(
            s.id,
            s.learner_id,
            s.exercise_id,
            s.course_id,
            s.status,
            s.started_at,
            s.ended_at,
            s.audio_duration_ms,
            s.audio_blob_key,
            s.failure_reason,
            User.display_name,
            Exercise.title,
            Exercise.kind,
            Evaluation.id.label("evaluation_id"),
            Evaluation.accuracy,
            Evaluation.fluency,
            Evaluation.completeness,
            Evaluation.overall,
        )
        .join(User, User.id == PracticeSession.learner_id)
        .join(Exercise, Exercise.id == PracticeSession.exercise_id)
        .outerjoin(Evaluation, current_evaluation())
    )


def _summary(row: Any) -> SessionSummary:
    scores = None
    if row.evaluation_id is not None:
        scores = Scores(row.accuracy, row.fluency, row.completeness, row.overall)
    return SessionSummary(
        id=row.id,
        learner=Person(row.learner_id, row.display_name),
        exercise=ExerciseRef(row.exercise_id, row.title, row.kind),
        course_id=row.course_id,
        status=row.status,
        started_at=as_utc(row.started_at),
        ended_at=None if row.ended_at is None else as_utc(row.ended_at),
        audio_duration_ms=row.audio_duration_ms,
        scores=scores,
        audio_blob_key=row.audio_blob_key,
        failure_reason=row.failure_reason,
    )


async def list_sessions(
    db: AsyncSession,
    principal: Principal,
    filters: SessionFilter,
    *,
    after: Keyset | None,
    limit: int,
) -> tuple[list[SessionSummary], bool]:
    """Up to `limit` sessions newest first, and whether more follow."""
    stmt = _summaries().where(visible_sessions(principal), *filters.clauses())
    if after is not None:
        # A row-value comparison, which PostgreSQL turns into one index range scan.
        columns = (PracticeSession.started_at, PracticeSession.id)
        last = tuple_(as_utc(after.started_at), after.id, types=[c.type for c in columns])
        stmt = stmt.where(tuple_(*columns) < last)
    stmt = stmt.order_by(PracticeSession.started_at.desc(), PracticeSession.id.desc())
    rows = (await db.execute(stmt.limit(limit + 1))).all()
    return [_summary(r) for r in rows[:limit]], len(rows) > limit


async def get_summary(
    db: AsyncSession, principal: Principal, session_id: uuid.UUID
) -> SessionSummary:
    stmt = _summaries().where(PracticeSession.id == session_id, visible_sessions(principal))
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("session not found")
    return _summary(row)


async def get_detail(
    db: AsyncSession, principal: Principal, session_id: uuid.UUID
) -> SessionDetail:
    summary = await get_summary(db, principal, session_id)
    transcript = await db.scalar(
        select(Transcript)
        .where(Transcript.session_id == session_id)
        .order_by(Transcript.created_at.desc(), Transcript.id.desc())
        .limit(1)
    )
    evaluations = await db.scalars(
        select(Evaluation)
        .where(Evaluation.session_id == session_id)
        .order_by(Evaluation.version.desc())
    )
    return SessionDetail(
        summary, transcript, evaluations.all(), await _feedback(db, session_id, None)
    )


async def _feedback(
    db: AsyncSession, session_id: uuid.UUID, tutor_id: uuid.UUID | None
) -> list[FeedbackEntry]:
    stmt = (
        select(TutorFeedback, User.display_name)
        .join(User, User.id == TutorFeedback.tutor_id)
        .where(TutorFeedback.session_id == session_id)
        .where(true() if tutor_id is None else TutorFeedback.tutor_id == tutor_id)
        .order_by(TutorFeedback.created_at, TutorFeedback.id)
    )
    return [
        FeedbackEntry(
            id=f.id,
            tutor=Person(f.tutor_id, name),
            rating=f.rating,
            comment=f.comment,
            created_at=as_utc(f.created_at),
            updated_at=as_utc(f.updated_at),
        )
        for f, name in (await db.execute(stmt)).all()
    ]


async def save_feedback(
    db: AsyncSession, principal: Principal, session_id: uuid.UUID, *, rating: int, comment: str
) -> tuple[FeedbackEntry, bool]:
    """Create or replace `principal`'s feedback on a session; True when it was created.

    The insert skips on the (session, tutor) unique key instead of checking first, so two
    concurrent first posts cannot both create (or one fail): the loser updates instead.
    """
    await get_summary(db, principal, session_id)
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "session_id": session_id,
        "tutor_id": principal.user_id,
        "rating": rating,
        "comment": comment,
        "created_at": now,
        "updated_at": now,
    }
    keys = ["session_id", "tutor_id"]
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    insert = (
        dialect.insert(TutorFeedback).values(values).on_conflict_do_nothing(index_elements=keys)
    )
    # RETURNING yields the new row, or nothing when the insert was skipped.
    created = (await db.execute(insert.returning(TutorFeedback.id))).first() is not None
    if not created:
        await db.execute(
            update(TutorFeedback)
            .where(TutorFeedback.session_id == session_id)
            .where(TutorFeedback.tutor_id == principal.user_id)
            .values(rating=rating, comment=comment, updated_at=now)
        )
    (entry,) = await _feedback(db, session_id, principal.user_id)
    return entry, created
