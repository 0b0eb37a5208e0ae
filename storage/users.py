"""Queries on users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import Conflict, NotFound
from storage.models import Role, User


async def by_email(db: AsyncSession, email: str) -> User | None:
    result = await db.scalars(select(User).where(User.email == email.lower()))
    return result.one_or_none()


async def get(db: AsyncSession, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def create(
    db: AsyncSession, *, email: str, display_name: str, password_hash: str, role: Role
) -> User:
    user = User(
        email=email.lower(), display_name=display_name, password_hash=password_hash, role=role
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as exc:
        await db.rollback()
        raise Conflict("a user with this email already exists", code="email_taken") from exc
    return user


async def listing(
    db: AsyncSession, *, role: Role | None, limit: int, offset: int
) -> Sequence[User]:
    stmt = select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    return (await db.scalars(stmt)).all()
