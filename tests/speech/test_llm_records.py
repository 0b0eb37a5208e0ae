"""What the feedback leaves behind: the merge into the stored evaluation (SQLite and
PostgreSQL, through the recorder a live session uses) and the Prometheus figures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.recorder import DatabaseRecorder
from rest.metrics import Metrics
from speech.llm.local import local_result
from speech.llm.result import FeedbackResult
from speech.llm.schema import LlmFeedback
from speech.transcript import FinalTranscript, Word
from storage import practice
from storage.blobs import LocalBlobStore
from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.models import Course, Evaluation, Exercise, User
from storage.practice import ExerciseInfo
from storage.settings import DatabaseSettings
from tests.speech.llm_server import read_aloud_request, sample_evaluation, valid_feedback


def llm_result() -> FeedbackResult:
    return FeedbackResult(
        source="llm",
        reason=None,
        feedback=LlmFeedback.model_validate(valid_feedback()),
        model="m",
        latency_ms=1500,
        prompt_tokens=300,
        completion_tokens=90,
        attempts=1,
    )


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await upgrade_async(db_url)
    engine = create_engine(DatabaseSettings(url=db_url))
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def exercise_row(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[uuid.UUID, ExerciseInfo]:
    async with sessions.begin() as db:
        user = User(email=f"{uuid.uuid4().hex}@example.org", display_name="L", password_hash="x")
        course = Course(title="C", status="published")
        db.add_all([user, course])
        await db.flush()
        row = Exercise(course_id=course.id, kind="read_aloud", title="T", reference_text="hi")
        db.add(row)
        await db.flush()
        info = ExerciseInfo(row.id, course.id, row.kind, row.title, "hi", None, None)
        return user.id, info


async def test_recorder_merges_feedback_into_the_current_evaluation(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    learner_id, exercise = await exercise_row(sessions)
    recorder = DatabaseRecorder(
        sessions=sessions, blobs=LocalBlobStore(tmp_path / "blobs"), node_id="n1"
    )
    session_id = uuid.uuid4()
    await recorder.started(session_id, learner_id, exercise, 16_000)
    transcript = FinalTranscript(
        text="hi", words=(Word(" hi", 0.1, 0.4, 0.9),), model="tiny.en", duration_ms=500
    )
    evaluation = sample_evaluation()
    await recorder.completed(session_id, np.zeros(8000, np.float32), transcript, evaluation)

    await recorder.feedback(session_id, llm_result())
    async with sessions() as db:
        (row,) = (await db.scalars(select(Evaluation))).all()
    stored = row.details["feedback"]
    assert (stored["source"], stored["model"], stored["prompt_tokens"]) == ("llm", "m", 300)
    assert stored["corrections"] == valid_feedback()["corrections"]
    assert row.details["local_feedback"] == evaluation["feedback"]
    assert row.details["scores"] == evaluation["scores"]  # the rest is untouched
    assert row.evaluator_name == "parley-local" and row.is_current


async def test_no_current_evaluation_means_nothing_to_merge(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as db:
        assert not await practice.add_feedback(db, uuid.uuid4(), llm_result().stored())


def test_metrics_count_llm_latency_and_fallbacks() -> None:
    metrics = Metrics()
    request = read_aloud_request()
    metrics.observe_llm(llm_result())
    metrics.observe_llm(local_result(request, "timeout", latency_ms=20_000))
    metrics.observe_llm(local_result(request, "error: HTTP 500", latency_ms=100))
    metrics.observe_llm(local_result(request, "not_configured"))  # no LLM asked: not counted
    text = metrics.render().decode()
    assert 'parley_llm_seconds_count{source="llm"} 1.0' in text
    assert 'parley_llm_seconds_count{source="local"} 2.0' in text
    assert 'parley_llm_errors_total{reason="timeout"} 1.0' in text
    assert 'parley_llm_errors_total{reason="error"} 1.0' in text
    assert "not_configured" not in text
