"""Rubrics of open-response exercises: immutable versions, the newest one current.

A tutor's change adds a version (`add`); evaluations record the version they were marked
against, so history keeps meaning what it meant and rescoring can re-mark it against the
current one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import ExerciseRubric


@dataclass(frozen=True, slots=True)
class RubricVersion:
    version: int
    criteria: list[dict[str, Any]]


async def current(db: AsyncSession, exercise_id: uuid.UUID) -> ExerciseRubric | None:
    stmt = (
        select(ExerciseRubric)
        .where(ExerciseRubric.exercise_id == exercise_id)
        .order_by(ExerciseRubric.version.desc())
        .limit(1)
    )
    return (await db.scalars(stmt)).one_or_none()


async def get(db: AsyncSession, exercise_id: uuid.UUID, version: int | None) -> ExerciseRubric:
    """The given version, or the current one; NotFound `rubric_not_found`."""
    if version is None:
        found = await current(db, exercise_id)
    else:
        found = await db.scalar(
            select(ExerciseRubric).where(
                ExerciseRubric.exercise_id == exercise_id, ExerciseRubric.version == version
            )
        )
    if found is None:
        raise NotFound("this exercise has no such rubric", code="rubric_not_found")
    return found


async def add(
    db: AsyncSession, exercise_id: uuid.UUID, criteria: list[dict[str, Any]], by: uuid.UUID
) -> ExerciseRubric:
    """The next version. Two tutors saving at once: the unique (exercise, version) makes
    one of them fail rather than both get the same number."""
    last = await db.scalar(
        select(func.max(ExerciseRubric.version)).where(ExerciseRubric.exercise_id == exercise_id)
    )
    row = ExerciseRubric(
        exercise_id=exercise_id, version=(last or 0) + 1, criteria=criteria, created_by=by
    )
    db.add(row)
    await db.flush()
    return row


async def for_marking(db: AsyncSession, exercise_id: uuid.UUID) -> RubricVersion | None:
    """What an evaluation is marked against: the current version, if any."""
    found = await current(db, exercise_id)
    return None if found is None else RubricVersion(found.version, list(found.criteria))
