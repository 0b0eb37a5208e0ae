"""The demo course `parley demo` practises on, created at start-up when `seed_demo` is on.

A learner cannot create courses, so the server provides one: a published course "Parley
demo" with one read-aloud exercise whose reference is the text of the bundled recording.
Both rows have fixed ids, so every node and every client knows them without a lookup, and
seeding is an INSERT .. ON CONFLICT DO NOTHING: two nodes starting at once both succeed
and the rows are written once. Rows that exist are never updated, so an admin who edits or
archives the demo keeps their changes (set `PARLEY_SERVER__SEED_DEMO=false` to stop it
from coming back after a delete).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from speech.samples import JFK
from storage.models import Course, CourseStatus, Exercise, ExerciseKind

log = logging.getLogger("parley")

DEMO_COURSE_ID = uuid.UUID("6d3c0a8e-5a0b-4c1e-9d2f-000000000d01")
DEMO_EXERCISE_ID = uuid.UUID("6d3c0a8e-5a0b-4c1e-9d2f-000000000d02")
DEMO_SAMPLE = JFK

_COURSE: dict[str, Any] = {
    "id": DEMO_COURSE_ID,
    "title": "Parley demo",
    "description": "A read-aloud exercise to try Parley with `parley demo`.",
    "language": "en",
    "level": None,
    "status": CourseStatus.PUBLISHED.value,
    "created_by": None,
}
_EXERCISE: dict[str, Any] = {
    "id": DEMO_EXERCISE_ID,
    "course_id": DEMO_COURSE_ID,
    "kind": ExerciseKind.READ_ALOUD.value,
    "title": "Ask not",
    "reference_text": DEMO_SAMPLE.text,
    "prompt": None,
    "position": 0,
    "time_limit_s": None,
}


async def _insert_missing(
    db: AsyncSession, model: type[Course] | type[Exercise], row: dict[str, Any]
) -> int:
    """Insert `row` unless its id exists; returns the number of rows written (0 or 1).

    ON CONFLICT DO NOTHING rather than catching IntegrityError: a failed insert aborts the
    whole transaction on PostgreSQL (the same reason `storage.courses.enrol` does this).
    """
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(model).values(row).on_conflict_do_nothing(index_elements=["id"])
    result = await db.execute(stmt)
    written: int = getattr(result, "rowcount", 0) or 0
    return written


async def ensure_demo(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Create the demo course and exercise if missing; True when anything was written."""
    async with sessions.begin() as db:
        written = await _insert_missing(db, Course, _COURSE)
        written += await _insert_missing(db, Exercise, _EXERCISE)
    if written:
        log.info("created the demo course %s (exercise %s)", DEMO_COURSE_ID, DEMO_EXERCISE_ID)
    return written > 0
