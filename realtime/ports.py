"""What a practice session needs from the outside, as protocols it is handed.

The session is a plain class: it never sees a WebSocket, a database or a model file, so it
is tested with small fakes and run for real with `speech.engine.WhisperEngine` and
`realtime.recorder`. What speech offers (the transcriber, its audio) is in `speech.ports`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from realtime.observe_protocol import EventMessage
from realtime.protocol import CloseCode, ServerMessage
from speech.llm.result import FeedbackResult
from speech.ports import Samples, Transcriber
from speech.transcript import FinalTranscript
from storage.models import SessionStatus
from storage.practice import ExerciseInfo


class SpeechEngine(Protocol):
    def transcriber(self) -> Transcriber: ...

    async def evaluate(
        self,
        audio: Samples,
        transcript: FinalTranscript,
        *,
        reference_text: str | None,
        prompt: str | None,
    ) -> dict[str, Any]:
        """The evaluation as a JSON-ready dict with `scores`, `evaluator` and `model`:
        read aloud against `reference_text`, else an open response to `prompt`."""
        ...


class Recorder(Protocol):
    async def started(
        self, session_id: uuid.UUID, learner_id: uuid.UUID, exercise: ExerciseInfo, rate: int
    ) -> None: ...

    async def completed(
        self,
        session_id: uuid.UUID,
        audio: Samples,
        transcript: FinalTranscript,
        evaluation: dict[str, Any],
    ) -> bool:
        """True: stored; False: kept to be stored when the database is back (an outage)."""
        ...

    async def ended(
        self,
        session_id: uuid.UUID,
        status: SessionStatus,
        reason: str,
        audio: Samples | None,
    ) -> None: ...

    async def moved(self, session_id: uuid.UUID) -> bool:
        """The session continues on this node (resumed after its node was lost); False if
        its record shows it ended meanwhile (it must not continue then)."""
        ...


class FeedbackStore(Protocol):
    async def feedback(self, session_id: uuid.UUID, result: FeedbackResult) -> None:
        """Merge `result` into the session's stored (current) evaluation."""
        ...


class Client(Protocol):
    """One client connection as the session sees it."""

    def send(self, message: ServerMessage) -> None:
        """Queue a message; never blocks (a client that cannot keep up is disconnected)."""
        ...

    def close(self, code: CloseCode, reason: str = "") -> None: ...


@dataclass(frozen=True, slots=True)
class SessionMeta:
    """Who and what a session's events are about (observers' channels are chosen by it)."""

    session_id: uuid.UUID
    learner_id: uuid.UUID
    course_id: uuid.UUID
    exercise_id: uuid.UUID
    exercise_title: str


class SessionEvents(Protocol):
    """Where a session's events go for observers (`realtime.hub.Hub`)."""

    def publish(self, session: SessionMeta, message: EventMessage) -> None:
        """Queue the event; never blocks nor raises (an overflowing queue drops it)."""
        ...

    def forget(self, session_id: uuid.UUID) -> None:
        """The session moved to another node: no longer live here (that node announces it
        with its own `session_started`)."""
        ...
