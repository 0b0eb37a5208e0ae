"""Small, deterministic stand-ins for the parts a practice session depends on.

The fake transcriber "hears" one word per 100 ms of 16 kHz audio, named after the value of
that block's first sample: `tone(3)` is 100 ms of the constant sample 300 and is heard as
`w3`. The words depend on the audio alone, however it was split into chunks, like the
real final pass.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from realtime.protocol import CloseCode, ServerMessage
from realtime.service import ExerciseLookup
from speech.ports import Samples, Transcriber
from speech.transcript import FinalTranscript, Interim, Word
from storage.access import Principal
from storage.errors import NotFound
from storage.models import Role, SessionStatus
from storage.practice import ExerciseInfo

RATE = 16_000
BLOCK = RATE // 10  # samples a fake word lasts: 100 ms
LIMIT_S = 2.0  # every bounded wait in these tests


def tone(value: int, *, blocks: int = 1, rate: int = RATE) -> bytes:
    """`blocks` x 100 ms of pcm_s16le at `rate`, every sample `value * 100`."""
    return np.full(blocks * rate // 10, value * 100, dtype="<i2").tobytes()


def learner() -> Principal:
    return Principal(user_id=uuid.uuid4(), role=Role.LEARNER)


def exercise(*, time_limit_s: int | None = None) -> ExerciseInfo:
    return ExerciseInfo(
        id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        kind="read_aloud",
        title="Numbers",
        reference_text="w1 w2 w3",
        prompt=None,
        time_limit_s=time_limit_s,
    )


class FakeTranscriber:
    def __init__(self) -> None:
        self._chunks: list[Samples] = []
        self.updates = 0
        self.fail_next_update = False
        self.update_failed = asyncio.Event()
        self.updated = asyncio.Event()
        self.finalized = 0
        self.closed = False

    def close(self) -> None:
        self.closed = True

    @property
    def audio_ms(self) -> int:
        return sum(len(c) for c in self._chunks) * 1000 // RATE

    def audio(self) -> Samples:
        return np.concatenate([np.zeros(0, np.float32), *self._chunks])

    @property
    def pace(self) -> float:
        return 1.0

    def feed(self, pcm16k: Samples) -> None:
        self._chunks.append(pcm16k)

    def words(self) -> list[Word]:
        audio = self.audio()
        return [
            Word(f" w{round(float(audio[i]) * 32768 / 100)}", i / RATE, (i + BLOCK) / RATE, 0.9)
            for i in range(0, len(audio) - BLOCK + 1, BLOCK)
        ]

    async def update(self) -> Interim:
        self.updates += 1
        if self.fail_next_update:
            self.fail_next_update = False
            self.update_failed.set()
            raise RuntimeError("interim pass failed")
        heard = [w.word.strip() for w in self.words()]
        self.updated.set()
        return Interim(
            committed=" ".join(heard[:-1]), tentative=" ".join(heard[-1:]), audio_ms=self.audio_ms
        )

    async def finalize(self) -> FinalTranscript:
        self.finalized += 1
        words = tuple(self.words())
        text = "".join(w.word for w in words).strip()
        return FinalTranscript(text=text, words=words, model="fake", duration_ms=self.audio_ms)


class FakeEngine:
    """Scores the share of words heard; `hold` keeps evaluations waiting until it is set."""

    def __init__(self) -> None:
        self.transcribers: list[FakeTranscriber] = []
        self.fail: Exception | None = None
        self.hold = asyncio.Event()
        self.hold.set()
        self.evaluating = asyncio.Event()
        self.loads = 0

    async def load(self) -> None:
        self.loads += 1

    def close(self) -> None:
        pass

    def transcriber(self) -> Transcriber:
        transcriber = FakeTranscriber()
        self.transcribers.append(transcriber)
        return transcriber

    async def evaluate(
        self,
        audio: Samples,
        transcript: FinalTranscript,
        *,
        reference_text: str | None,
        prompt: str | None,
    ) -> dict[str, Any]:
        self.evaluating.set()
        await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return {
            "kind": "read_aloud" if reference_text else "open_response",
            "scores": {"accuracy": 90, "fluency": 80, "completeness": 100, "overall": 88},
            "transcript": transcript.text,
            "evaluator": {"name": "fake", "version": "0"},
            "model": transcript.model,
        }


@dataclass(frozen=True)
class Ended:
    session_id: uuid.UUID
    status: SessionStatus
    reason: str
    audio: Samples | None


class FakeRecorder:
    """Records every call; `fail_completed` / `fail_ended` make those calls raise."""

    def __init__(self) -> None:
        self.starts: list[tuple[uuid.UUID, uuid.UUID, int]] = []
        self.completions: list[tuple[uuid.UUID, Samples, FinalTranscript, dict[str, Any]]] = []
        self.endings: list[Ended] = []
        self.moves: list[uuid.UUID] = []
        self.fail_completed: Exception | None = None
        self.keep_completed = False  # as during a database outage: kept, stored later
        self.fail_ended: Exception | None = None
        self.has_ended = asyncio.Event()

    async def started(
        self, session_id: uuid.UUID, learner_id: uuid.UUID, exercise: ExerciseInfo, rate: int
    ) -> None:
        self.starts.append((session_id, learner_id, rate))

    async def completed(
        self,
        session_id: uuid.UUID,
        audio: Samples,
        transcript: FinalTranscript,
        evaluation: dict[str, Any],
    ) -> bool:
        self.completions.append((session_id, audio, transcript, evaluation))
        if self.fail_completed is not None:
            raise self.fail_completed
        return not self.keep_completed

    async def ended(
        self, session_id: uuid.UUID, status: SessionStatus, reason: str, audio: Samples | None
    ) -> None:
        self.endings.append(Ended(session_id, status, reason, audio))
        self.has_ended.set()
        if self.fail_ended is not None:
            raise self.fail_ended

    async def moved(self, session_id: uuid.UUID) -> bool:
        self.moves.append(session_id)
        return session_id not in {e.session_id for e in self.endings}


class FakeClient:
    """Collects what the session sends, and the close codes it is given."""

    def __init__(self) -> None:
        self.messages: list[ServerMessage] = []
        self.closes: list[CloseCode] = []
        self._inbox: asyncio.Queue[ServerMessage] = asyncio.Queue()

    def send(self, message: ServerMessage) -> None:
        self.messages.append(message)
        self._inbox.put_nowait(message)

    def close(self, code: CloseCode, reason: str = "") -> None:
        self.closes.append(code)

    async def until(self, *types: str) -> ServerMessage:
        """The next message of one of `types` (earlier ones of other types are skipped)."""
        async with asyncio.timeout(LIMIT_S):
            while True:
                message = await self._inbox.get()
                if message.type in types:
                    return message

    def types(self) -> list[str]:
        return [m.type for m in self.messages]

    def of_type(self, kind: str) -> list[ServerMessage]:
        return [m for m in self.messages if m.type == kind]


def exercises_of(known: ExerciseInfo) -> ExerciseLookup:
    """An exercise lookup that knows one exercise."""

    async def lookup(exercise_id: uuid.UUID, who: Principal) -> ExerciseInfo:
        if exercise_id != known.id:
            raise NotFound("exercise not found", code="exercise_not_found")
        return known

    return lookup


def authenticating(who: Callable[[], Principal]) -> Callable[..., Awaitable[Principal]]:
    """A service's `authenticate` that lets `who()` in, whatever the token."""

    async def authenticate(token: str, *, expired_ok: bool = False) -> Principal:
        return who()

    return authenticate
