"""INSERT .. ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike.

Used instead of catching IntegrityError: a failed insert would abort the whole transaction
on PostgreSQL, and savepoints are unreliable with SQLite's Python driver."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_if_new(db: AsyncSession, model: type[Any], values: dict[str, Any]) -> bool:
    """Insert one row of `model` unless it conflicts with one already there (a concurrent
    identical insert waits for the other's transaction); True when the row is new."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    result = await db.execute(dialect.insert(model).values(values).on_conflict_do_nothing())
    return isinstance(result, CursorResult) and result.rowcount == 1
