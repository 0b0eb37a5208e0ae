"""Reads behind the live views: whose live sessions a caller may see, and learners' names."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.access import Principal, taught_course_ids
from storage.models import User


async def visible_courses(db: AsyncSession, who: Principal) -> frozenset[uuid.UUID] | None:
    """The courses whose sessions `who` may watch; None: every course (an admin)."""
    if who.is_admin:
        return None
    return frozenset((await db.scalars(taught_course_ids(who.user_id))).all())


async def display_names(db: AsyncSession, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.display_name).where(User.id.in_(list(ids))))
    return {row.id: row.display_name for row in rows}
