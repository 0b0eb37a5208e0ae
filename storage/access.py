"""Who may see what: the authenticated principal and the visibility rules for sessions.

A learner sees only their own sessions; a tutor sees the sessions of learners in courses
they teach (and only in those courses); an admin sees everything. The rules are expressed
as SQL filters so that lists and single reads share them: a session outside the filter is
reported as not found, never as "forbidden", so its existence does not leak.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, select, true

from storage.models import Enrolment, EnrolmentRole, PracticeSession, Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.TUTOR, Role.ADMIN)


def taught_course_ids(tutor_id: uuid.UUID) -> Select[uuid.UUID]:
    return select(Enrolment.course_id).where(
        Enrolment.user_id == tutor_id, Enrolment.role == EnrolmentRole.TUTOR.value
    )


def visible_sessions(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause selecting the practice sessions `principal` may read."""
    if principal.role is Role.ADMIN:
        return true()
    if principal.role is Role.TUTOR:
        return PracticeSession.course_id.in_(taught_course_ids(principal.user_id))
    return PracticeSession.learner_id == principal.user_id


def teaches_learner(tutor_id: uuid.UUID, learner_id: uuid.UUID) -> ColumnElement[bool]:
    """True where `learner_id` is enrolled as a learner in a course `tutor_id` teaches."""
    return (
        select(Enrolment.user_id)
        .where(
            and_(
                Enrolment.user_id == learner_id,
                Enrolment.role == EnrolmentRole.LEARNER.value,
                Enrolment.course_id.in_(taught_course_ids(tutor_id)),
            )
        )
        .exists()
    )
