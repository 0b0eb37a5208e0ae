"""Stores what a live session produced: the row at start, the result or the failure at end.

Audio goes to the blob store before the database commit that points at it, so a stored
success always has its recording. During a database outage the writes of finished sessions
wait in `pending` (on disk) and are applied when the database is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from realtime.pending_writes import PendingWrites
from speech.audio import wav_bytes
from speech.llm.result import FeedbackResult
from speech.ports import Samples
from speech.transcript import FinalTranscript
from storage import practice
from storage.blobs import BlobStore, audio_key
from storage.models import SessionStatus
from storage.outage import is_outage
from storage.practice import ExerciseInfo, Outcome

SAMPLE_RATE = 16_000


class DatabaseRecorder:
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], blobs: BlobStore, node_id: str
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._node_id = node_id
        # Where results wait during a database outage (None: an outage fails them).
        self.pending: PendingWrites | None = None

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
    ) -> bool:
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
        record = {
            "kind": "completed",
            "audio_key": key,
            "audio_duration_ms": duration_ms,
            "outcome": dataclasses.asdict(outcome),
        }
        return await self._write(session_id, record)

    async def ended(
        self, session_id: uuid.UUID, status: SessionStatus, reason: str, audio: Samples | None
    ) -> None:
        key: str | None = None
        duration_ms: int | None = None
        if audio is not None and len(audio):
            key, duration_ms = await self._store_audio(session_id, audio)
        record = {
            "kind": "ended",
            "status": status.value,
            "reason": reason,
            "audio_key": key,
            "audio_duration_ms": duration_ms,
        }
        await self._write(session_id, record)

    async def feedback(self, session_id: uuid.UUID, result: FeedbackResult) -> None:
        await self._write(session_id, {"kind": "feedback", "feedback": result.stored()})

    async def _write(self, session_id: uuid.UUID, record: dict[str, Any]) -> bool:
        """Store `record` now (True), or keep it for when the database is back (False)."""
        record |= {"session_id": str(session_id), "node_id": self._node_id}
        if self.pending is not None and self.pending.waiting(session_id):
            await self.pending.add(session_id, record)  # behind this session's earlier ones
            return False
        try:
            await self.apply(record)
        except Exception as exc:
            if self.pending is None or not is_outage(exc):
                raise
            await self.pending.add(session_id, record)
            return False
        return True

    async def apply(self, record: dict[str, Any]) -> None:
        """One record in one transaction: a session is never stored half."""
        session_id = uuid.UUID(record["session_id"])
        async with self._sessions.begin() as db:
            match record["kind"]:
                case "completed":
                    await practice.complete(
                        db,
                        session_id=session_id,
                        audio_key=record["audio_key"],
                        audio_duration_ms=record["audio_duration_ms"],
                        outcome=Outcome(**record["outcome"]),
                        node_id=record["node_id"],
                    )
                case "ended":
                    await practice.end(
                        db,
                        session_id,
                        SessionStatus(record["status"]),
                        reason=record["reason"],
                        audio_key=record["audio_key"],
                        audio_duration_ms=record["audio_duration_ms"],
                        node_id=record["node_id"],
                    )
                case "feedback":
                    await practice.add_feedback(db, session_id, record["feedback"])
                case kind:
                    raise ValueError(f"unknown record kind {kind!r}")

    async def interrupted(self, session_id: uuid.UUID) -> bool:
        async with self._sessions.begin() as db:
            return await practice.interrupted(db, session_id, self._node_id)

    async def moved(self, session_id: uuid.UUID) -> bool:
        async with self._sessions.begin() as db:
            return await practice.set_node(db, session_id, self._node_id)
