"""Stores what a live session produced: the row at start, the result or the failure at end.

Audio goes to the blob store before the database commit that points at it, so a stored
success always has its recording.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from speech.audio import wav_bytes
from speech.llm.result import FeedbackResult
from speech.ports import Samples
from speech.transcript import FinalTranscript
from storage import practice
from storage.blobs import BlobStore, audio_key
from storage.models import SessionStatus
from storage.practice import ExerciseInfo, Outcome

SAMPLE_RATE = 16_000


class DatabaseRecorder:
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], blobs: BlobStore, node_id: str
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._node_id = node_id

    async def started(
        self, session_id: uuid.UUID, learner_id: uuid.UUID, exercise: ExerciseInfo, rate: int
    ) -> None:
        async with self._sessions.begin() as db:
            await practice.start(
                db,
                session_id=session_id,
                learner_id=learner_id,
                exercise=exercise,
                audio_format="pcm_s16le",
                sample_rate=rate,
                node_id=self._node_id,
            )

    async def _store_audio(self, session_id: uuid.UUID, audio: Samples) -> tuple[str, int]:
        key = audio_key(session_id)
        data = await asyncio.to_thread(wav_bytes, audio)
        await self._blobs.put(key, data, "audio/wav")
        return key, len(audio) * 1000 // SAMPLE_RATE

    async def completed(
        self,
        session_id: uuid.UUID,
        audio: Samples,
        transcript: FinalTranscript,
        evaluation: dict[str, Any],
    ) -> None:
        key, duration_ms = await self._store_audio(session_id, audio)
        evaluator = evaluation.get("evaluator", {})
        outcome = Outcome(
            text=transcript.text,
            words=[w.to_dict() for w in transcript.words],
            model=transcript.model,
            evaluator_name=str(evaluator.get("name", "unknown")),
            evaluator_version=str(evaluator.get("version", "0")),
            scores=dict(evaluation.get("scores", {})),
            details=evaluation,
        )
        async with self._sessions.begin() as db:
            await practice.complete(
                db,
                session_id=session_id,
                audio_key=key,
                audio_duration_ms=duration_ms,
                outcome=outcome,
                node_id=self._node_id,
            )

    async def ended(
        self, session_id: uuid.UUID, status: SessionStatus, reason: str, audio: Samples | None
    ) -> None:
        key: str | None = None
        duration_ms: int | None = None
        if audio is not None and len(audio):
            key, duration_ms = await self._store_audio(session_id, audio)
        async with self._sessions.begin() as db:
            await practice.end(
                db,
                session_id,
                status,
                reason=reason,
                audio_key=key,
                audio_duration_ms=duration_ms,
                node_id=self._node_id,
            )

    async def moved(self, session_id: uuid.UUID) -> bool:
        async with self._sessions.begin() as db:
            return await practice.set_node(db, session_id, self._node_id)

    async def feedback(self, session_id: uuid.UUID, result: FeedbackResult) -> None:
        async with self._sessions.begin() as db:
            await practice.add_feedback(db, session_id, result.stored())
