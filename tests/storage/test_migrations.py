"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import migrate
from storage.engine import create_engine, create_sessionmaker
from storage.models import (
    Course,
    Evaluation,
    Exercise,
    ExerciseKind,
    PracticeSession,
    User,
)
from storage.settings import DatabaseSettings


async def table_names(url: str) -> set[str]:
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def test_upgrade_to_head_matches_the_models(db_url: str) -> None:
    assert await migrate.current_revision(db_url) is None

    await migrate.upgrade_async(db_url)

    assert await migrate.schema_diff(db_url) == []
    assert await migrate.current_revision(db_url) == migrate.head_revision()


async def test_downgrade_to_base_then_upgrade_again(db_url: str) -> None:
    await migrate.upgrade_async(db_url)

    await migrate.downgrade_async(db_url, "base")
    assert await table_names(db_url) == {"alembic_version"}
    assert await migrate.current_revision(db_url) is None

    await migrate.upgrade_async(db_url)
    assert await migrate.schema_diff(db_url) == []


async def test_schema_diff_reports_an_unmigrated_database(db_url: str) -> None:
    diff = await migrate.schema_diff(db_url)
    assert {item[1].name for item in diff if item[0] == "add_table"} >= {"users", "evaluations"}


async def seed_session(db: AsyncSession) -> uuid.UUID:
    user = User(email="l@example.org", display_name="L", password_hash="x")
    db.add(user)
    await db.flush()
    course = Course(title="C", created_by=user.id)
    db.add(course)
    await db.flush()
    exercise = Exercise(
        course_id=course.id, kind=ExerciseKind.READ_ALOUD.value, title="E", reference_text="hi"
    )
    db.add(exercise)
    await db.flush()
    session = PracticeSession(learner_id=user.id, exercise_id=exercise.id, course_id=course.id)
    db.add(session)
    await db.commit()
    return session.id


def evaluation(session_id: uuid.UUID, version: int, *, current: bool) -> Evaluation:
    return Evaluation(
        session_id=session_id,
        version=version,
        is_current=current,
        evaluator_name="test",
        evaluator_version="1",
    )


async def test_one_current_evaluation_per_session(db_url: str) -> None:
    await migrate.upgrade_async(db_url)
    engine = create_engine(DatabaseSettings(url=db_url))
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as db:
            session_id = await seed_session(db)
            db.add(evaluation(session_id, 1, current=True))
            # The index is partial: any number of superseded versions may sit beside it.
            db.add(evaluation(session_id, 2, current=False))
            db.add(evaluation(session_id, 3, current=False))
            await db.commit()

            db.add(evaluation(session_id, 4, current=True))
            with pytest.raises(IntegrityError, match=r"(?i)unique"):
                await db.commit()
            await db.rollback()

            other_id = await seed_other_session(db, session_id)
            db.add(evaluation(other_id, 1, current=True))
            await db.commit()
    finally:
        await engine.dispose()


async def seed_other_session(db: AsyncSession, like: uuid.UUID) -> uuid.UUID:
    first = await db.get(PracticeSession, like)
    assert first is not None
    other = PracticeSession(
        learner_id=first.learner_id, exercise_id=first.exercise_id, course_id=first.course_id
    )
    db.add(other)
    await db.commit()
    return other.id


def test_sync_upgrade_creates_the_sqlite_folder(tmp_path: Path) -> None:
    db_file = tmp_path / "not" / "yet" / "parley.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{db_file}")
    assert db_file.is_file()


async def test_sync_upgrade_refuses_a_running_loop(sqlite_url: str) -> None:
    with pytest.raises(RuntimeError, match="upgrade_async"):
        migrate.upgrade(sqlite_url)
