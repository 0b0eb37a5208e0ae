"""The audit trail: administrative actions, written with the action and read by admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal
from storage.history import as_utc
from storage.models import AuditEvent

# Every action the trail may hold: a filter on anything else is a client's typo, not a
# search that finds nothing.
Action = Literal[
    "user.created",
    "user.role_changed",
    "user.deactivated",
    "user.reactivated",
    "course.archived",
    "course.unarchived",
    "exercise.archived",
    "exercise.unarchived",
    "exercise.rubric_set",
    "rescore.started",
    "rescore.cancelled",
]
TargetType = Literal["user", "course", "exercise", "rescore_job"]
ACTIONS: tuple[str, ...] = get_args(Action)
TARGET_TYPES: tuple[str, ...] = get_args(TargetType)


def record(
    db: AsyncSession,
    who: Principal,
    action: Action,
    target_type: TargetType,
    target_id: uuid.UUID | str,
    *,
    request_id: str | None = None,
    **details: Any,
) -> None:
    """Add the event to `db`'s transaction: it is stored if, and only if, the action is."""
    db.add(
        AuditEvent(
            actor_id=who.user_id,
            actor_role=who.role.value,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            details=details,
            request_id=request_id,
        )
    )


@dataclass(frozen=True, slots=True)
class Position:
    """The sort key of a page's last event; the next page starts strictly after it."""

    at: datetime
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: Action | None = None
    target_type: TargetType | None = None
    target_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def clauses(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actor_id is not None:
            found.append(AuditEvent.actor_id == self.actor_id)
        if self.action is not None:
            found.append(AuditEvent.action == self.action)
        if self.target_type is not None:
            found.append(AuditEvent.target_type == self.target_type)
        if self.target_id is not None:
            found.append(AuditEvent.target_id == self.target_id)
        if self.since is not None:
            found.append(AuditEvent.at >= as_utc(self.since))
        if self.until is not None:
            found.append(AuditEvent.at < as_utc(self.until))
        return found


async def events(
    db: AsyncSession, where: AuditFilter, *, after: Position | None, limit: int
) -> tuple[list[AuditEvent], bool]:
    """Up to `limit` events newest first, and whether more follow.

    Paged by key, not by offset: the trail grows at its head while an auditor reads it, and
    an offset would then show some events twice."""
    query = select(AuditEvent).where(*where.clauses())
    if after is not None:
        columns = (AuditEvent.at, AuditEvent.id)
        last = tuple_(as_utc(after.at), after.id, types=[c.type for c in columns])
        query = query.where(tuple_(*columns) < last)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    found = list((await db.scalars(query)).all())
    return found[:limit], len(found) > limit
