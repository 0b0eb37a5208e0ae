"""`parley rescore` against a real server (embedded worker, SQLite), and `parley worker`'s
refusal to start without Redis."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import func, select

from storage import users
from storage.blobs import LocalBlobStore
from storage.engine import create_engine, create_sessionmaker
from storage.models import Evaluation, Role
from storage.settings import DatabaseSettings
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, BIN, running_server, server_env
from tests.workers.stored import Recording, course, exercise, store


async def seed(db_url: str, blobs: Path, clips: list[Recording]) -> tuple[uuid.UUID, int]:
    """A course with one stored session per clip, written into the server's database."""
    engine = create_engine(DatabaseSettings(url=db_url))
    sessions = create_sessionmaker(engine)
    store_ = LocalBlobStore(blobs)
    try:
        async with sessions.begin() as db:
            learner = await users.create(
                db,
                email="lee@example.org",
                display_name="Lee",
                password_hash="x",
                role=Role.LEARNER,
            )
            course_id = await course(db, tutors=[], learners=[learner.id])
            exercises = [await exercise(db, course_id, c.text) for c in clips]
        for ex, clip in zip(exercises, clips, strict=True):
            await store(sessions, store_, learner_id=learner.id, exercise=ex, recording=clip)
        return course_id, len(clips)
    finally:
        await engine.dispose()


async def count_versions(db_url: str) -> list[int]:
    engine = create_engine(DatabaseSettings(url=db_url))
    try:
        async with create_sessionmaker(engine)() as db:
            rows = await db.execute(
                select(func.count()).select_from(Evaluation).group_by(Evaluation.session_id)
            )
            return sorted(int(n) for (n,) in rows.all())
    finally:
        await engine.dispose()


def test_parley_rescore_shows_progress_until_the_job_is_done(
    tmp_path: Path, clips: list[Recording]
) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    with running_server(tmp_path, db_url) as server:
        course_id, count = asyncio.run(seed(db_url, tmp_path / "blobs", clips))
        env = server_env(tmp_path, db_url) | {"PARLEY_PASSWORD": ADMIN_PASSWORD}
        command = [str(BIN / "parley"), "rescore", "--course", str(course_id)]
        login = ["--server", server.url, "--email", ADMIN_EMAIL]
        done = subprocess.run(command + login, env=env, capture_output=True, text=True, timeout=180)
        # A bad scope is the server's clear 4xx, shown on one line.
        naive = [str(BIN / "parley"), "rescore", "--since", "2024-05-01T00:00:00", *login]
        refused = subprocess.run(naive, env=env, capture_output=True, text=True, timeout=60)
        unknown = [*command, "--evaluator", "0.1+gone", *login]
        other = subprocess.run(unknown, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{count} sessions" in done.stderr
    assert f"] {count}/{count} ({count} done, 0 failed) completed" in done.stderr
    assert asyncio.run(count_versions(db_url)) == [2] * count

    assert refused.returncode == 1
    assert "error: POST /v1/rescore-jobs: invalid request body" in refused.stderr
    assert other.returncode == 1
    assert "unknown evaluator '0.1+gone'" in other.stderr and "+hand" in other.stderr
    # No scope at all is refused before asking the server.
    missing = subprocess.run(
        [str(BIN / "parley"), "rescore", *login], env=env, capture_output=True, text=True
    )
    assert missing.returncode == 1 and "name a scope" in missing.stderr


def test_parley_worker_needs_redis(tmp_path: Path) -> None:
    env = server_env(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}")
    done = subprocess.run(
        [str(BIN / "parley"), "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "needs Redis" in done.stderr
