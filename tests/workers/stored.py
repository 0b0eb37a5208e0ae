"""Stored practice for rescoring tests: real recordings, stored by the live recorder.

Each clip is transcribed and scored once per test run by the live engine (version 1, as a
live session would have stored it); `store` then writes a session the way the live flow
does, through `realtime.recorder.DatabaseRecorder`: row at start, WAV in the blob store,
transcript and evaluation v1 at completion.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.recorder import DatabaseRecorder
from speech.audio import load_wav_16k
from speech.engine import WhisperEngine
from speech.ports import Samples
from speech.settings import SpeechSettings
from speech.transcript import FinalTranscript
from storage.blobs import BlobStore
from storage.models import Course, Enrolment, EnrolmentRole, Evaluation, Exercise, ExerciseKind
from storage.practice import ExerciseInfo
from tests.conftest import SPEECH
from workers.engines import transcribe

NATIVE = SPEECH / "native"
# Short clips keep the tests quick: 3.0, 5.3 and 2.8 seconds of real read speech.
CLIPS = (
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "goforward.wav",
)


@dataclass(frozen=True)
class Recording:
    name: str
    text: str
    audio: Samples
    transcript: FinalTranscript
    evaluation: dict[str, Any]


def record_clips() -> list[Recording]:
    """Each clip with its live v1 result (blocking: loads the model once)."""
    texts = {
        e["file"]: e["text"]
        for e in map(json.loads, (NATIVE / "manifest.jsonl").read_text().splitlines())
    }

    async def run() -> list[Recording]:
        engine = WhisperEngine(SpeechSettings())
        await engine.load()
        try:
            out = []
            for name in CLIPS:
                audio = load_wav_16k(NATIVE / name)
                transcript = await transcribe(engine, audio)
                exercise = read_aloud(uuid.uuid4(), uuid.uuid4(), texts[name])
                evaluation = await engine.evaluate(
                    audio,
                    transcript,
                    reference_text=exercise.read_aloud_text,
                    prompt=exercise.prompt,
                )
                out.append(Recording(name, texts[name], audio, transcript, evaluation))
            return out
        finally:
            engine.close()

    return asyncio.run(run())


def read_aloud(exercise_id: uuid.UUID, course_id: uuid.UUID, text: str) -> ExerciseInfo:
    return ExerciseInfo(
        id=exercise_id,
        course_id=course_id,
        kind=ExerciseKind.READ_ALOUD.value,
        title="Read aloud",
        reference_text=text,
        prompt=None,
        time_limit_s=None,
    )


async def course(
    db: AsyncSession, *, tutors: list[uuid.UUID], learners: list[uuid.UUID]
) -> uuid.UUID:
    row = Course(title=f"Course {uuid.uuid4().hex[:6]}", status="published")
    db.add(row)
    await db.flush()
    for user, role in [(t, EnrolmentRole.TUTOR) for t in tutors] + [
        (u, EnrolmentRole.LEARNER) for u in learners
    ]:
        db.add(Enrolment(course_id=row.id, user_id=user, role=role.value))
    return row.id


async def exercise(db: AsyncSession, course_id: uuid.UUID, text: str) -> ExerciseInfo:
    row = Exercise(
        course_id=course_id,
        kind=ExerciseKind.READ_ALOUD.value,
        title="Read aloud",
        reference_text=text,
    )
    db.add(row)
    await db.flush()
    return read_aloud(row.id, course_id, text)


async def store(
    sessions: async_sessionmaker[AsyncSession],
    blobs: BlobStore,
    *,
    learner_id: uuid.UUID,
    exercise: ExerciseInfo,
    recording: Recording,
) -> uuid.UUID:
    """A completed session with its audio and evaluation v1, written by the live recorder."""
    recorder = DatabaseRecorder(sessions=sessions, blobs=blobs, node_id="test-node")
    session_id = uuid.uuid4()
    await recorder.started(session_id, learner_id, exercise, 16_000)
    await recorder.completed(
        session_id, recording.audio, recording.transcript, recording.evaluation
    )
    return session_id


async def versions(db: AsyncSession, session_id: uuid.UUID) -> list[Evaluation]:
    """The session's evaluations, oldest version first."""
    found = await db.scalars(
        select(Evaluation).where(Evaluation.session_id == session_id).order_by(Evaluation.version)
    )
    return list(found.all())


async def count_for_job(db: AsyncSession, job_id: uuid.UUID) -> int:
    count = await db.scalar(
        select(func.count()).select_from(Evaluation).where(Evaluation.rescore_job_id == job_id)
    )
    return int(count or 0)
