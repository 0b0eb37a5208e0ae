"""Each learner's totals per course follow every change to their sessions and evaluations,
on SQLite and on PostgreSQL, whoever makes it (the triggers of migration 0013)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import migrate
from storage.engine import create_engine, create_sessionmaker
from storage.models import (
    Course,
    Evaluation,
    Exercise,
    ExerciseKind,
    LearnerCourseTotals,
    PracticeSession,
    User,
)
from storage.settings import DatabaseSettings

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
PARTS = ("accuracy", "fluency", "completeness", "overall")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate.upgrade_async(db_url)
    engine = create_engine(DatabaseSettings(url=db_url))
    yield engine
    await engine.dispose()


async def person(db: AsyncSession, name: str) -> uuid.UUID:
    user = User(email=f"{name}@example.org", display_name=name, password_hash="x")
    db.add(user)
    await db.flush()
    return user.id


async def exercise_in(db: AsyncSession, owner: uuid.UUID, title: str) -> Exercise:
    course = Course(title=title, created_by=owner)
    db.add(course)
    await db.flush()
    exercise = Exercise(
        course_id=course.id, kind=ExerciseKind.READ_ALOUD.value, title=title, reference_text="hi"
    )
    db.add(exercise)
    await db.flush()
    return exercise


async def practise(db: AsyncSession, learner: uuid.UUID, on: Exercise, hours: int) -> uuid.UUID:
    session = PracticeSession(
        learner_id=learner,
        exercise_id=on.id,
        course_id=on.course_id,
        started_at=T0 + timedelta(hours=hours),
    )
    db.add(session)
    await db.flush()
    return session.id


async def score(
    db: AsyncSession, session_id: uuid.UUID, version: int, overall: float | None, *, current: bool
) -> None:
    if current:
        await db.execute(
            update(Evaluation).where(Evaluation.session_id == session_id).values(is_current=False)
        )
    db.add(
        Evaluation(
            session_id=session_id,
            version=version,
            is_current=current,
            evaluator_name="test",
            evaluator_version="1",
            accuracy=None if overall is None else overall + 1,
            fluency=overall,
            completeness=None,  # a part an evaluator did not give
            overall=overall,
        )
    )
    await db.flush()


async def totals(db: AsyncSession) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]]:
    t = LearnerCourseTotals
    rows = await db.execute(
        select(t.learner_id, t.course_id, t.sessions, t.last_started_at).add_columns(
            *(getattr(t, f"{p}_{w}") for p in PARTS for w in ("sum", "n"))
        )
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows if r[2] > 0}


async def recounted(db: AsyncSession) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]]:
    """The same figures counted from the sessions and evaluations themselves."""
    s, e = PracticeSession, Evaluation
    rows = await db.execute(
        select(s.learner_id, s.course_id, func.count(s.id), func.max(s.started_at))
        .add_columns(
            *(
                column
                for p in PARTS
                for column in (func.coalesce(func.sum(getattr(e, p)), 0), func.count(getattr(e, p)))
            )
        )
        .outerjoin(e, (e.session_id == s.id) & e.is_current)
        .group_by(s.learner_id, s.course_id)
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


async def agree(db: AsyncSession) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, ...]]:
    kept = await totals(db)
    assert kept == await recounted(db)
    return kept


async def test_totals_follow_sessions_evaluations_and_deletions(engine: AsyncEngine) -> None:
    async with create_sessionmaker(engine)() as db:
        owner = await person(db, "tess")
        ann = await person(db, "ann")
        ben = await person(db, "ben")
        fox = await exercise_in(db, owner, "Fox")
        rain = await exercise_in(db, owner, "Rain")

        first = await practise(db, ann, fox, 1)
        await db.commit()
        got = await agree(db)
        assert got[(ann, fox.course_id)][:2] == (1, T0 + timedelta(hours=1))

        await score(db, first, 1, 60.0, current=True)
        second = await practise(db, ann, fox, 3)
        await score(db, second, 1, 80.0, current=True)
        await practise(db, ann, rain, 2)
        await practise(db, ben, fox, 4)
        await db.commit()
        got = await agree(db)
        last = T0 + timedelta(hours=3)
        assert got[(ann, fox.course_id)] == (2, last, 142, 2, 140, 2, 0, 0, 140, 2)
        assert got[(ann, rain.course_id)][:2] == (1, T0 + timedelta(hours=2))

        # Rescoring: a version kept aside changes nothing, a new current one replaces.
        await score(db, first, 2, 10.0, current=False)
        await db.commit()
        assert await agree(db) == got
        await score(db, first, 3, 70.0, current=True)
        await db.commit()
        assert (await agree(db))[(ann, fox.course_id)][8:] == (150, 2)

        # An evaluation without scores counts the session but no score.
        await score(db, second, 2, None, current=True)
        await db.commit()
        assert (await agree(db))[(ann, fox.course_id)][8:] == (70, 1)

        await db.execute(delete(PracticeSession).where(PracticeSession.id == first))
        await db.commit()
        assert (await agree(db))[(ann, fox.course_id)] == (
            1,
            T0 + timedelta(hours=3),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        )

        # A deleted account takes its sessions and its totals with it.
        await db.execute(delete(User).where(User.id == ann))
        await db.commit()
        got = await agree(db)
        assert set(got) == {(ben, fox.course_id)}
        assert (await db.scalar(select(func.count()).select_from(LearnerCourseTotals))) == 1


async def test_concurrent_changes_for_one_learner_are_all_counted(
    engine: AsyncEngine, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time")
    sessions: async_sessionmaker[AsyncSession] = create_sessionmaker(engine)
    async with sessions() as db:
        owner = await person(db, "tess")
        ann = await person(db, "ann")
        fox = await exercise_in(db, owner, "Fox")
        scored = await practise(db, ann, fox, 0)
        await score(db, scored, 1, 50.0, current=True)
        await db.commit()

    async with sessions() as one, sessions() as two:
        await practise(one, ann, fox, 1)  # holds the totals row until it commits

        async def second() -> None:
            # A recount that adds no row: it must still wait for the first writer.
            await two.execute(delete(Evaluation).where(Evaluation.session_id == scored))
            await two.commit()

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await one.commit()
        await asyncio.wait_for(waiting, 10)

    async with sessions() as db:
        got = await agree(db)
        assert got[(ann, fox.course_id)] == (2, T0 + timedelta(hours=1), 0, 0, 0, 0, 0, 0, 0, 0)


async def test_the_migration_counts_the_sessions_already_stored(
    engine: AsyncEngine, db_url: str
) -> None:
    sessions = create_sessionmaker(engine)
    async with sessions() as db:
        owner = await person(db, "tess")
        ann = await person(db, "ann")
        fox = await exercise_in(db, owner, "Fox")
        await db.commit()
    await engine.dispose()
    await migrate.downgrade_async(db_url, "0012")  # history stored before the totals
    async with sessions() as db:
        scored = await practise(db, ann, fox, 1)
        await score(db, scored, 1, 40.0, current=True)
        await practise(db, ann, fox, 2)
        await db.commit()
    await engine.dispose()

    await migrate.upgrade_async(db_url)

    async with sessions() as db:
        got = await agree(db)
        assert got[(ann, fox.course_id)] == (2, T0 + timedelta(hours=2), 41, 1, 40, 1, 0, 0, 40, 1)
