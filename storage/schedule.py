"""When an exercise is open, and who has done what is due.

An exercise with `available_from` is open from that instant on (inclusive); before it,
learners neither see it in lists nor start it, while the staff of its course (its tutors,
admins) see and practise it as always. `due_at` is a deadline, not a closing time: an
exercise stays open after it. An assignment (an enrolled learner and an exercise with a
due date) is done on time when one of the learner's sessions on it completed at or before
`due_at`; a session completed later makes it late.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import PermissionDenied
from storage.history import ExerciseRef, Person, as_utc
from storage.models import (
    Enrolment,
    EnrolmentRole,
    Exercise,
    PracticeSession,
    SessionStatus,
    User,
)


def is_open(exercise: Exercise, now: datetime) -> bool:
    return exercise.available_from is None or as_utc(exercise.available_from) <= now


def open_clause(now: datetime) -> ColumnElement[bool]:
    """WHERE the exercise is open at `now`: the SQL twin of `is_open`."""
    return or_(Exercise.available_from.is_(None), Exercise.available_from <= as_utc(now))


def iso(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def not_available(available_from: datetime) -> PermissionDenied:
    """The refusal of an exercise that is not open yet, saying from when it is."""
    when = iso(available_from)
    return PermissionDenied(
        f"this exercise opens at {when}",
        code="exercise_not_available",
        available_from=when,
    )


@dataclass(frozen=True, slots=True)
class LearnerDue:
    learner: Person
    completed_at: datetime | None  # end of the learner's first completed session on it
    on_time: bool  # completed_at is at or before the due date


@dataclass(frozen=True, slots=True)
class DueExercise:
    exercise: ExerciseRef
    available_from: datetime | None
    due_at: datetime
    learners: list[LearnerDue]  # every learner of the course, by display name

    @property
    def on_time(self) -> int:
        return sum(d.on_time for d in self.learners)

    @property
    def late(self) -> int:
        return sum(d.completed_at is not None and not d.on_time for d in self.learners)

    @property
    def missing(self) -> int:
        return sum(d.completed_at is None for d in self.learners)


async def due(
    db: AsyncSession,
    course_id: uuid.UUID,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[DueExercise]:
    """The course's exercises with a due date in [since, until), soonest first (archived
    ones left out), each with every enrolled learner's completion."""
    stmt = select(Exercise).where(
        Exercise.course_id == course_id,
        Exercise.archived.is_(False),
        Exercise.due_at.is_not(None),
    )
    if since is not None:
        stmt = stmt.where(Exercise.due_at >= as_utc(since))
    if until is not None:
        stmt = stmt.where(Exercise.due_at < as_utc(until))
    stmt = stmt.order_by(Exercise.due_at, Exercise.position, Exercise.id)
    exercises = (await db.scalars(stmt.limit(limit).offset(offset))).all()
    if not exercises:
        return []
    learners = [
        Person(row.id, row.display_name)
        for row in await db.execute(
            select(User.id, User.display_name)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(
                Enrolment.course_id == course_id,
                Enrolment.role == EnrolmentRole.LEARNER.value,
            )
            .order_by(User.display_name, User.id)
        )
    ]
    firsts = (
        select(
            PracticeSession.exercise_id,
            PracticeSession.learner_id,
            func.min(PracticeSession.ended_at).label("completed_at"),
        )
        .where(
            PracticeSession.course_id == course_id,
            PracticeSession.exercise_id.in_([e.id for e in exercises]),
            PracticeSession.status == SessionStatus.COMPLETED.value,
        )
        .group_by(PracticeSession.exercise_id, PracticeSession.learner_id)
    )
    completed: dict[uuid.UUID, dict[uuid.UUID, datetime]] = defaultdict(dict)
    for row in await db.execute(firsts):
        if row.completed_at is not None:
            completed[row.exercise_id][row.learner_id] = as_utc(row.completed_at)
    found = []
    for e in exercises:
        assert e.due_at is not None  # filtered above
        deadline = as_utc(e.due_at)
        done = completed[e.id]
        rows = [
            LearnerDue(p, done.get(p.id), p.id in done and done[p.id] <= deadline) for p in learners
        ]
        found.append(
            DueExercise(ExerciseRef(e.id, e.title, e.kind), e.available_from, deadline, rows)
        )
    return found


def _due_in(since: datetime, until: datetime, now: datetime) -> ColumnElement[bool]:
    """WHERE an exercise's due date fell in [since, until) and has passed by `now`."""
    return and_(
        Exercise.archived.is_(False),
        Exercise.due_at >= as_utc(since),
        Exercise.due_at < as_utc(min(until, now)),
    )


@dataclass(frozen=True, slots=True)
class Due:
    due: int = 0  # assignments whose due date passed in the window
    completed: int = 0  # of those, completed on time

    def __add__(self, other: Due) -> Due:
        return Due(self.due + other.due, self.completed + other.completed)

    @property
    def rate(self) -> float | None:
        return self.completed / self.due if self.due else None


async def completion(
    db: AsyncSession, course_id: uuid.UUID, since: datetime, until: datetime, now: datetime
) -> dict[uuid.UUID, Due]:
    """Per enrolled learner with something due: the assignments whose due date fell in
    [since, until) and has passed by `now`, and how many were completed on time."""
    done = (
        select(PracticeSession.id)
        .where(
            PracticeSession.learner_id == Enrolment.user_id,
            PracticeSession.exercise_id == Exercise.id,
            PracticeSession.status == SessionStatus.COMPLETED.value,
            PracticeSession.ended_at <= Exercise.due_at,
        )
        .exists()
    )
    pairs = (
        select(Enrolment.user_id.label("learner_id"), case((done, 1), else_=0).label("done"))
        .join(Exercise, Exercise.course_id == Enrolment.course_id)
        .where(
            Enrolment.course_id == course_id,
            Enrolment.role == EnrolmentRole.LEARNER.value,
            _due_in(since, until, now),
        )
        .subquery()
    )
    stmt = select(
        pairs.c.learner_id, func.count().label("due"), func.sum(pairs.c.done).label("completed")
    ).group_by(pairs.c.learner_id)
    return {r.learner_id: Due(r.due, int(r.completed)) for r in await db.execute(stmt)}
