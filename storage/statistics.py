"""Usage statistics of a course and of one of its learners, aggregated by the database.

Counted are the sessions of the course's learners (users enrolled in it as learners; a
learner who leaves leaves its figures) started in [since, until). Buckets are UTC calendar
days, or ISO weeks from Monday 00:00 UTC; the first and last bucket hold only the part of
them inside the window. Per bucket and in total:

- sessions: started, any status; completed: of those, completed;
- minutes: recorded audio of those sessions, any status;
- scored and average: completed sessions with a current evaluation, and each score's mean;
- trend: each score's least-squares slope against the session's start time, in points per
  day (null below two scored sessions at distinct times);
- due: assignments (a learner and an exercise, archived exercises left out) whose due date fell in
  the window and has passed, and how many of them were completed on time (`storage.schedule`).

Sums are computed in SQL (GROUP BY, per dialect only the date bucket and the epoch differ);
Python only divides them, fills empty buckets and adds per-learner sums into totals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    CTE,
    Date,
    Float,
    Select,
    Uuid,
    and_,
    case,
    cast,
    func,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.history import Person, Scores, as_utc, current_evaluation
from storage.models import (
    Enrolment,
    EnrolmentRole,
    Evaluation,
    PracticeSession,
    SessionStatus,
    User,
)
from storage.schedule import Due, completion
from storage.trend import SCORES, Fit, Totals, fit_columns

Period = Literal["day", "week"]
DAY_S = 86400.0
_UNIX_JULIAN_DAY = 2440587.5  # julianday('1970-01-01')


@dataclass(frozen=True, slots=True)
class Window:
    period: Period
    since: datetime  # inclusive
    until: datetime  # exclusive

    def bucket_of(self, day: date) -> date:
        return day if self.period == "day" else day - timedelta(days=day.weekday())

    def starts(self) -> list[date]:
        """Every bucket the window touches, oldest first."""
        step = timedelta(days=1 if self.period == "day" else 7)
        first = self.bucket_of(as_utc(self.since).date())
        last = as_utc(self.until - timedelta(microseconds=1)).date()
        return [first + step * i for i in range((last - first) // step + 1)]


@dataclass(frozen=True, slots=True)
class Summary:
    totals: Totals
    due: Due

    @property
    def average(self) -> Scores:
        return Scores(*(f.mean for f in self.totals.fits))

    @property
    def trend(self) -> Scores:
        return Scores(*(f.slope for f in self.totals.fits))


@dataclass(frozen=True, slots=True)
class Bucket:
    start: date
    totals: Totals
    learners: int  # learners with a session in the bucket

    @property
    def average(self) -> Scores:
        return Scores(*(f.mean for f in self.totals.fits))


@dataclass(frozen=True, slots=True)
class LearnerSummary:
    learner: Person
    summary: Summary


@dataclass(frozen=True, slots=True)
class CourseStatistics:
    window: Window
    summary: Summary
    buckets: list[Bucket]
    learners: list[LearnerSummary] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Row:
    """One learner in one bucket, for the CSV export (buckets with sessions only)."""

    learner: Person
    start: date
    totals: Totals


def _bucket(dialect: str, period: Period) -> ColumnElement[date]:
    started = PracticeSession.started_at
    if dialect == "postgresql":
        return cast(func.date_trunc(period, func.timezone("UTC", started)), Date)
    # SQLite keeps UTC text; 'weekday 0' moves to the coming Sunday (or stays), -6 days is
    # that week's Monday.
    modifiers = () if period == "day" else ("weekday 0", "-6 days")
    return type_coerce(func.date(started, *modifiers), Date)


def _days(dialect: str, since: datetime) -> ColumnElement[float]:
    """Days from `since` to the session's start, as a float."""
    started = PracticeSession.started_at
    if dialect == "postgresql":
        epoch: ColumnElement[float] = cast(func.extract("epoch", started), Float)
    else:
        epoch = (func.julianday(started) - _UNIX_JULIAN_DAY) * DAY_S
    return (epoch - as_utc(since).timestamp()) / DAY_S


def _points(
    db: AsyncSession, course_id: uuid.UUID, window: Window, learner_id: uuid.UUID | None
) -> CTE:
    """One row per session of the course's learners in the window, with its current
    evaluation's scores if it completed, and its time as days from the window's start
    (computed once per row: the sums use it a dozen times)."""
    learner = and_(
        Enrolment.course_id == PracticeSession.course_id,
        Enrolment.user_id == PracticeSession.learner_id,
        Enrolment.role == EnrolmentRole.LEARNER.value,
    )
    completed = PracticeSession.status == SessionStatus.COMPLETED.value
    dialect = db.get_bind().dialect.name
    stmt = (
        select(
            PracticeSession.learner_id,
            _bucket(dialect, window.period).label("start"),
            case((completed, 1), else_=0).label("completed"),
            PracticeSession.audio_duration_ms.label("audio_ms"),
            Evaluation.id.label("evaluation_id"),
            _days(dialect, window.since).label("x"),
            *(getattr(Evaluation, name) for name in SCORES),
        )
        .join(Enrolment, learner)
        .outerjoin(Evaluation, and_(current_evaluation(), completed))
        .where(
            PracticeSession.course_id == course_id,
            PracticeSession.started_at >= as_utc(window.since),
            PracticeSession.started_at < as_utc(window.until),
        )
    )
    if learner_id is not None:
        stmt = stmt.where(PracticeSession.learner_id == learner_id)
    # Materialized: read once for both groupings of `_sums`, and never inlined into each
    # sum, which would compute `x` a dozen times per row (PostgreSQL: 8 ms of 18 at 2,000
    # sessions).
    return stmt.cte("points").prefix_with("MATERIALIZED")


def _aggregate(points: CTE, *columns: Any, keys: tuple[Any, ...] | None = None) -> Select[Any]:
    """`columns` and the sums of `points` per `keys` (by default, the columns)."""
    return select(
        *columns,
        func.count().label("sessions"),
        func.sum(points.c.completed).label("completed"),
        func.coalesce(func.sum(points.c.audio_ms), 0).label("audio_ms"),
        func.count(func.distinct(points.c.learner_id)).label("learners"),
        func.count(points.c.evaluation_id).label("scored"),
        *fit_columns(points.c.x, {name: points.c[name] for name in SCORES}),
    ).group_by(*(columns if keys is None else keys))


async def _learners(db: AsyncSession, course_id: uuid.UUID) -> list[Person]:
    stmt = (
        select(User.id, User.display_name)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.course_id == course_id, Enrolment.role == EnrolmentRole.LEARNER.value)
        .order_by(User.display_name, User.id)
    )
    return [Person(r.id, r.display_name) for r in await db.execute(stmt)]


def _totals(row: Any) -> Totals:
    fits = tuple(Fit.of(row, name) for name in SCORES)
    return Totals(row.sessions, row.completed, int(row.audio_ms), row.scored, fits)


async def _sums(
    db: AsyncSession, course_id: uuid.UUID, window: Window, learner_id: uuid.UUID | None
) -> tuple[dict[uuid.UUID, Totals], list[Bucket]]:
    """Sums per learner and per bucket (every bucket of the window), in one statement."""
    points = _points(db, course_id, window, learner_id)
    # One UNION ALL, so the sessions are read once: a row is a learner's (start null) or a
    # bucket's (learner_id null).
    learner, start = points.c.learner_id, points.c.start
    no_learner, no_start = type_coerce(null(), Uuid), type_coerce(null(), Date)
    per_learner = _aggregate(points, learner, no_start.label("start"), keys=(learner,))
    per_bucket = _aggregate(points, no_learner.label("learner_id"), start, keys=(start,))
    learners: dict[uuid.UUID, Totals] = {}
    buckets: dict[date, Bucket] = {}
    for r in await db.execute(union_all(per_learner, per_bucket)):
        if r.start is None:
            learners[r.learner_id] = _totals(r)
        else:
            buckets[r.start] = Bucket(r.start, _totals(r), r.learners)
    every = [buckets.get(day) or Bucket(day, Totals(), 0) for day in window.starts()]
    return learners, every


async def course(
    db: AsyncSession, course_id: uuid.UUID, window: Window, *, now: datetime
) -> CourseStatistics:
    """The course's totals, buckets and one summary per enrolled learner (by name)."""
    learners = await _learners(db, course_id)
    sums, buckets = await _sums(db, course_id, window, None)
    due = await completion(db, course_id, window.since, window.until, now)
    rows = [
        LearnerSummary(p, Summary(sums.get(p.id, Totals()), due.get(p.id, Due()))) for p in learners
    ]
    total = Summary(Totals(), Due())
    for r in rows:
        total = Summary(total.totals + r.summary.totals, total.due + r.summary.due)
    return CourseStatistics(window, total, buckets, rows)


async def learner(
    db: AsyncSession, course_id: uuid.UUID, learner_id: uuid.UUID, window: Window, *, now: datetime
) -> CourseStatistics:
    """One learner's figures in the course (`learners` empty); NotFound-free: the caller
    checks the learner is enrolled (`enrolled_learner`)."""
    sums, buckets = await _sums(db, course_id, window, learner_id)
    due = (await completion(db, course_id, window.since, window.until, now)).get(learner_id, Due())
    return CourseStatistics(window, Summary(sums.get(learner_id, Totals()), due), buckets)


async def enrolled_learner(
    db: AsyncSession, course_id: uuid.UUID, learner_id: uuid.UUID
) -> Person | None:
    stmt = (
        select(User.id, User.display_name)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(
            Enrolment.course_id == course_id,
            Enrolment.user_id == learner_id,
            Enrolment.role == EnrolmentRole.LEARNER.value,
        )
    )
    row = (await db.execute(stmt)).one_or_none()
    return None if row is None else Person(row.id, row.display_name)


async def rows(
    db: AsyncSession, course_id: uuid.UUID, window: Window, learner_id: uuid.UUID | None
) -> list[Row]:
    """Per learner and bucket, learners by name, buckets oldest first (for the CSV)."""
    points = _points(db, course_id, window, learner_id)
    stmt = (
        _aggregate(points, User.id, User.display_name, points.c.start)
        .join(User, User.id == points.c.learner_id)
        .order_by(User.display_name, User.id, points.c.start)
    )
    return [Row(Person(r.id, r.display_name), r.start, _totals(r)) for r in await db.execute(stmt)]
