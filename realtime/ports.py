"""What a practice session needs from the outside, as protocols it is handed.

The session is a plain class: it never sees a WebSocket, a database or a model file, so it
is tested with small fakes and run for real with the implementations in `realtime.engine`
and `realtime.recorder`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from realtime.observe_protocol import EventMessage
from realtime.protocol import CloseCode, ServerMessage
from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.transcript import FinalTranscript, Interim
from storage.models import SessionStatus
from storage.practice import ExerciseInfo

Samples = npt.NDArray[np.float32]


class Transcriber(Protocol):
    @property
    def audio_ms(self) -> int: ...

    def audio(self) -> Samples: ...

    @property
    def pace(self) -> float:
        """How many times the interim interval after the last update began the next
        should come: over 1 on a busy node, a fraction while speech after a pause is
        unheard."""
        ...

    def feed(self, pcm16k: Samples) -> None: ...

    async def update(self) -> Interim: ...

    async def finalize(self) -> FinalTranscript: ...

    def close(self) -> None:
        """The session ended without asking for its final: drop any work towards it."""


class SpeechEngine(Protocol):
    def transcriber(self) -> Transcriber: ...

    async def evaluate(
        self, audio: Samples, transcript: FinalTranscript, exercise: ExerciseInfo
    ) -> dict[str, Any]:
        """The evaluation as a JSON-ready dict with `scores`, `evaluator` and `model`."""
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
    ) -> None: ...

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


class FeedbackStage(Protocol):
    """Feedback after the local evaluation (`speech.llm.stage.FeedbackStage`)."""

    async def run(self, request: FeedbackRequest) -> FeedbackResult:
        """Always a result, from the LLM or local; bounded in time; never raises."""
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
