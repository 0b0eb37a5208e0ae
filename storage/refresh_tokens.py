"""Refresh-token families: rotation, reuse detection and revocation.

A login starts a family; each refresh uses up its token and records the next one of the same
family. A token presented twice was copied (the thief or the owner got there first), so the
whole family is revoked and both must sign in again. Revoking a user bumps their
`token_version`, which refuses every access and refresh token issued before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RefreshToken, User, utcnow


@dataclass(frozen=True, slots=True)
class Used:
    """The outcome of presenting a refresh token: `family` to continue, or why not."""

    family: str | None
    refused: str | None = None  # "unknown", "reused", "revoked", "expired"


async def record(
    db: AsyncSession, *, jti: str, family: str, user_id: uuid.UUID, expires_at: datetime
) -> None:
    db.add(RefreshToken(jti=jti, family=family, user_id=user_id, expires_at=expires_at))
    await db.flush()


async def use(db: AsyncSession, jti: str, user_id: uuid.UUID) -> Used:
    """Marks the token used, once. The UPDATE's condition makes two racing refreshes with the
    same token see one success and one reuse, on SQLite and PostgreSQL alike."""
    now = utcnow()
    taken = await db.execute(
        update(RefreshToken)
        .where(
            RefreshToken.jti == jti,
            RefreshToken.user_id == user_id,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.family)
    )
    family = taken.scalar_one_or_none()
    if family is not None:
        return Used(family)
    row = await db.get(RefreshToken, jti)
    if row is None or row.user_id != user_id:
        return Used(None, "unknown")
    if row.revoked_at is not None:
        return Used(None, "revoked")
    if row.used_at is not None:
        await revoke_family(db, row.family)
        return Used(None, "reused")
    return Used(None, "expired")


async def revoke_family(db: AsyncSession, family: str) -> None:
    await db.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def family_of(db: AsyncSession, jti: str) -> str | None:
    return await db.scalar(select(RefreshToken.family).where(RefreshToken.jti == jti))


async def revoke_user(db: AsyncSession, user_id: uuid.UUID) -> None:
    """Every token of the user, access and refresh, issued until now stops working."""
    await db.execute(
        update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
    )
    await db.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def prune(db: AsyncSession) -> int:
    """Deletes expired tokens (they can no longer be presented); returns how many."""
    result = await db.execute(delete(RefreshToken).where(RefreshToken.expires_at <= utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
