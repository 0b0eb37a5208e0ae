"""The audit trail: administrative actions, written with the action and read by admins."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal
from storage.models import AuditEvent


def record(
    db: AsyncSession,
    who: Principal,
    action: str,
    target_type: str,
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
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def events(
    db: AsyncSession, where: AuditFilter, *, limit: int, offset: int
) -> Sequence[AuditEvent]:
    """Newest first."""
    query = select(AuditEvent)
    if where.actor_id is not None:
        query = query.where(AuditEvent.actor_id == where.actor_id)
    if where.action is not None:
        query = query.where(AuditEvent.action == where.action)
    if where.target_id is not None:
        query = query.where(AuditEvent.target_id == where.target_id)
    if where.since is not None:
        query = query.where(AuditEvent.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.at < where.until)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit).offset(offset)
    return (await db.scalars(query)).all()
