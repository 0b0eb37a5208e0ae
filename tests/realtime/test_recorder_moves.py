"""The stored row of a session that moved between nodes: the finishing node is recorded,
and the session completes once however many nodes try (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from realtime.recorder import DatabaseRecorder
from speech.transcript import FinalTranscript, Word
from storage.blobs import LocalBlobStore
from storage.engine import create_engine, create_sessionmaker
from storage.errors import Conflict
from storage.migrate import upgrade_async
from storage.models import (
    Course,
    Exercise,
    PracticeSession,
    Role,
    SessionStatus,
    Transcript,
    User,
)
from storage.practice import ExerciseInfo
from storage.settings import DatabaseSettings

EVALUATION = {"scores": {"overall": 80.0}, "evaluator": {"name": "test", "version": "1"}}


async def test_a_moved_session_completes_once_on_its_new_node(db_url: str, tmp_path: Path) -> None:
    await upgrade_async(db_url)
    engine = create_engine(DatabaseSettings(url=db_url))
    sessions = create_sessionmaker(engine)
    try:
        async with sessions.begin() as db:
            user = User(
                email="l@example.org", display_name="L", password_hash="x", role=Role.LEARNER
            )
            course = Course(title="C", status="published")
            db.add_all([user, course])
            await db.flush()
            exercise = Exercise(
                course_id=course.id, kind="read_aloud", title="E", reference_text="hi"
            )
            db.add(exercise)
            await db.flush()
            info = ExerciseInfo(exercise.id, course.id, "read_aloud", "E", "hi", None, None)
        blobs = LocalBlobStore(tmp_path / "blobs")
        a = DatabaseRecorder(sessions=sessions, blobs=blobs, node_id="node-a")
        b = DatabaseRecorder(sessions=sessions, blobs=blobs, node_id="node-b")
        session_id = uuid.uuid4()
        audio = np.zeros(16_000, np.float32)
        words = (Word(" hi", 0.1, 0.4, 0.9),)
        transcript = FinalTranscript(text="hi", words=words, model="tiny.en", duration_ms=1000)

        await a.started(session_id, user.id, info, 16_000)
        assert await b.moved(session_id) is True
        # The old node, cut off, gives the session up for lost: not its call any more.
        await a.ended(session_id, SessionStatus.FAILED, "connection lost", audio)
        await b.completed(session_id, audio, transcript, EVALUATION)
        with pytest.raises(Conflict) as twice:
            await a.completed(session_id, audio, transcript, EVALUATION)
        assert twice.value.code == "already_ended"
        assert await a.moved(session_id) is False  # ended: it cannot move again

        async with sessions() as db:
            row = await db.get(PracticeSession, session_id)
            assert row is not None
            assert (row.status, row.node_id, row.audio_duration_ms) == ("completed", "node-b", 1000)
            assert row.failure_reason is None
            count = await db.scalar(
                select(func.count())
                .select_from(Transcript)
                .where(Transcript.session_id == session_id)
            )
            assert count == 1
    finally:
        await engine.dispose()
