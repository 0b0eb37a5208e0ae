"""Queries on courses, their members and exercises, and who may see or manage a course.

An admin sees every course; anyone else sees published courses plus the courses they are
enrolled in (as learner or tutor). A course outside that rule is reported as not found, so
a draft's existence does not leak. Managing a course (editing it, its members or its
exercises) takes an admin, or a tutor enrolled as a tutor of it; anyone else who can see
the course is refused with PermissionDenied.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Delete, Row, Select, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import schedule
from storage.access import Principal
from storage.errors import Conflict, NotFound, PermissionDenied
from storage.inserts import insert_if_new
from storage.models import Course, CourseStatus, Enrolment, EnrolmentRole, Exercise, Role, User

Ts = TypeVarTuple("Ts")


@dataclass(frozen=True, slots=True)
class Seen:
    """A course as one principal sees it: the row and the principal's role in it, if any."""

    course: Course
    my_role: EnrolmentRole | None

    def can_manage(self, who: Principal) -> bool:
        # The account role is checked too: a tutor demoted to learner keeps the enrolment row
        # but must lose the right to edit the course.
        return who.is_admin or (who.role is Role.TUTOR and self.my_role is EnrolmentRole.TUTOR)

    def require_manager(self, who: Principal) -> None:
        if not self.can_manage(who):
            raise PermissionDenied(
                "only a tutor of this course or an admin may do this", code="not_course_staff"
            )


def _visible(stmt: Select[*Ts], who: Principal) -> Select[*Ts]:
    """Join the caller's own enrolment (at most one row: it is the primary key) and filter."""
    mine = and_(Enrolment.course_id == Course.id, Enrolment.user_id == who.user_id)
    stmt = stmt.outerjoin(Enrolment, mine)
    if who.is_admin:
        return stmt
    return stmt.where(
        or_(Course.status == CourseStatus.PUBLISHED.value, Enrolment.role.is_not(None))
    )


def not_others_drill(viewer: uuid.UUID) -> ColumnElement[bool]:
    """WHERE an exercise is not a drill made for another learner (`storage.drills`)."""
    return or_(Exercise.for_learner_id.is_(None), Exercise.for_learner_id == viewer)


def is_others_drill(exercise: Exercise, viewer: uuid.UUID) -> bool:
    """The row check of `not_others_drill`."""
    return exercise.for_learner_id not in (None, viewer)


def _role(value: str | None) -> EnrolmentRole | None:
    return None if value is None else EnrolmentRole(value)


async def seen(db: AsyncSession, who: Principal, course_id: uuid.UUID) -> Seen:
    stmt = _visible(select(Course, Enrolment.role), who).where(Course.id == course_id)
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("course not found")
    return Seen(row[0], _role(row[1]))


async def managed(db: AsyncSession, who: Principal, course_id: uuid.UUID) -> Seen:
    course = await seen(db, who, course_id)
    course.require_manager(who)
    return course


async def listing(
    db: AsyncSession,
    who: Principal,
    *,
    status: CourseStatus | None,
    enrolled: bool | None,
    limit: int,
    offset: int,
) -> list[Seen]:
    stmt = _visible(select(Course, Enrolment.role), who)
    if status is not None:
        stmt = stmt.where(Course.status == status.value)
    if enrolled is not None:
        stmt = stmt.where(Enrolment.role.is_not(None) if enrolled else Enrolment.role.is_(None))
    stmt = stmt.order_by(Course.created_at, Course.id).limit(limit).offset(offset)
    return [Seen(course, _role(role)) for course, role in await db.execute(stmt)]


async def create(
    db: AsyncSession,
    who: Principal,
    *,
    title: str,
    description: str,
    language: str,
    level: str | None,
    status: CourseStatus,
) -> Seen:
    """A new course; a tutor who creates one is enrolled as its first tutor."""
    course = Course(
        title=title,
        description=description,
        language=language,
        level=level,
        status=status.value,
        created_by=who.user_id,
    )
    db.add(course)
    await db.flush()
    if who.role is not Role.TUTOR:
        return Seen(course, None)
    await enrol(db, course.id, who.user_id, EnrolmentRole.TUTOR)
    return Seen(course, EnrolmentRole.TUTOR)


async def enrol(
    db: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID, role: EnrolmentRole
) -> Enrolment:
    """Enrol a user; idempotent, also against a concurrent identical request
    (`storage.inserts`)."""
    values = {"course_id": course_id, "user_id": user_id, "role": role.value}
    await insert_if_new(db, Enrolment, values)
    enrolment = await db.get(Enrolment, (course_id, user_id), populate_existing=True)
    assert enrolment is not None  # inserted or already there, within this transaction
    if enrolment.role != role.value:
        raise Conflict(f"already enrolled as a {enrolment.role}", code="already_enrolled")
    return enrolment


async def leave(db: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
    stmt: Delete = delete(Enrolment).where(
        Enrolment.course_id == course_id, Enrolment.user_id == user_id
    )
    await db.execute(stmt)


async def members(
    db: AsyncSession,
    course_id: uuid.UUID,
    *,
    role: EnrolmentRole | None,
    limit: int,
    offset: int,
) -> Sequence[Row[Enrolment, User]]:
    stmt = (
        select(Enrolment, User)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.course_id == course_id)
        # Tutors first ("tutor" > "learner"), then in the order they joined.
        .order_by(Enrolment.role.desc(), Enrolment.created_at, Enrolment.user_id)
        .limit(limit)
        .offset(offset)
    )
    if role is not None:
        stmt = stmt.where(Enrolment.role == role.value)
    return (await db.execute(stmt)).all()


async def exercise(
    db: AsyncSession, who: Principal, exercise_id: uuid.UUID
) -> tuple[Exercise, Seen]:
    """An exercise of a course the caller can see, with that course; else NotFound."""
    stmt = _visible(
        select(Exercise, Course, Enrolment.role).join(Course, Course.id == Exercise.course_id),
        who,
    ).where(Exercise.id == exercise_id)
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("exercise not found")
    found, view = row[0], Seen(row[1], _role(row[2]))
    # Another learner's drill (storage.drills) is as good as absent to everyone but staff.
    if is_others_drill(found, who.user_id) and not view.can_manage(who):
        raise NotFound("exercise not found")
    return found, view


async def exercises(
    db: AsyncSession,
    course_id: uuid.UUID,
    *,
    include_archived: bool,
    limit: int,
    offset: int,
    open_at: datetime | None = None,
    viewer: uuid.UUID | None = None,
) -> Sequence[Exercise]:
    """`open_at`: only exercises open at that instant (what a learner is shown); `viewer`:
    leave out drills made for anyone else (what a learner is shown)."""
    stmt = select(Exercise).where(Exercise.course_id == course_id)
    if viewer is not None:
        stmt = stmt.where(not_others_drill(viewer))
    if not include_archived:
        stmt = stmt.where(Exercise.archived.is_(False))
    if open_at is not None:
        stmt = stmt.where(schedule.open_clause(open_at))
    stmt = stmt.order_by(Exercise.position, Exercise.created_at, Exercise.id)
    return (await db.scalars(stmt.limit(limit).offset(offset))).all()


async def next_position(db: AsyncSession, course_id: uuid.UUID) -> int:
    """One past the last exercise's position (archived ones count, so they keep their slot).

    Two concurrent appends may get the same position; the listing order breaks the tie by
    creation time, which is the order a user would expect anyway.
    """
    stmt = select(func.max(Exercise.position)).where(Exercise.course_id == course_id)
    last = await db.scalar(stmt)
    return 0 if last is None else last + 1
