"""Who may observe which channel, checked on every subscribe.

Admins observe anything; a tutor a session, learner or course of a course they teach; a
learner only their own sessions (their own learner channel or one of their sessions). A
tutor watching a learner sees only the events of the courses they teach. Sessions and
learners outside the caller's reach are reported as not found, so their existence does
not leak.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.hub import ALL
from realtime.observe_protocol import ChannelRef
from storage.access import Principal, taught_course_ids, teaches_learner
from storage.errors import InvalidInput, NotFound, PermissionDenied
from storage.models import Course, PracticeSession, Role, User


@dataclass(frozen=True, slots=True)
class Grant:
    channel: str
    courses: frozenset[uuid.UUID] | None  # only events of these courses; None: every event


def channel_of(ref: ChannelRef) -> str:
    """The bus channel `ref` names (ids in canonical form), or `InvalidInput`."""
    if ref.kind == "all":
        return ALL
    try:
        return f"{ref.kind}:{uuid.UUID(ref.id)}"
    except ValueError as exc:
        raise InvalidInput(f"{ref.kind} id is not a valid id", code="bad_message") from exc


class ObserveAccess:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def grant(self, who: Principal, ref: ChannelRef) -> Grant:
        """The channel `who` may subscribe to, or a `ParleyError` saying why not."""
        channel = channel_of(ref)
        if ref.kind == "all":
            if not who.is_admin:
                raise PermissionDenied("only admins may observe every session")
            return Grant(channel, None)
        target = uuid.UUID(ref.id)
        async with self._sessions() as db:
            if ref.kind == "session":
                await self._session(db, who, target)
                return Grant(channel, None)
            if ref.kind == "learner":
                return Grant(channel, await self._learner(db, who, target))
            await self._course(db, who, target)
            return Grant(channel, None)

    async def _session(self, db: AsyncSession, who: Principal, session_id: uuid.UUID) -> None:
        row = (
            await db.execute(
                select(PracticeSession.learner_id, PracticeSession.course_id).where(
                    PracticeSession.id == session_id
                )
            )
        ).one_or_none()
        allowed = row is not None and (
            who.is_admin
            or (who.role is Role.LEARNER and row.learner_id == who.user_id)
            or (who.role is Role.TUTOR and row.course_id in await self._taught(db, who))
        )
        if not allowed:
            raise NotFound("session not found", code="session_not_found")

    async def _learner(
        self, db: AsyncSession, who: Principal, learner_id: uuid.UUID
    ) -> frozenset[uuid.UUID] | None:
        if who.role is Role.LEARNER:
            if learner_id != who.user_id:
                raise PermissionDenied("a learner may observe only their own sessions")
            return None
        stmt = select(User.id).where(User.id == learner_id)
        if not who.is_admin:
            stmt = stmt.where(teaches_learner(who.user_id, learner_id))
        if await db.scalar(stmt) is None:
            raise NotFound("learner not found", code="learner_not_found")
        return None if who.is_admin else await self._taught(db, who)

    async def _course(self, db: AsyncSession, who: Principal, course_id: uuid.UUID) -> None:
        if who.role is Role.LEARNER:
            raise PermissionDenied("learners may not observe a course")
        stmt = select(Course.id).where(Course.id == course_id)
        if not who.is_admin:
            stmt = stmt.where(Course.id.in_(taught_course_ids(who.user_id)))
        if await db.scalar(stmt) is None:
            raise NotFound("course not found", code="course_not_found")

    async def _taught(self, db: AsyncSession, who: Principal) -> frozenset[uuid.UUID]:
        return frozenset((await db.scalars(taught_course_ids(who.user_id))).all())

    async def taught(self, who: Principal) -> frozenset[uuid.UUID] | None:
        """The courses whose live sessions `who` may list (None: all, for an admin)."""
        if who.is_admin:
            return None
        async with self._sessions() as db:
            return await self._taught(db, who)
