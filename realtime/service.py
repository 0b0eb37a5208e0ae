"""The practice service of a node: starts and resumes sessions, owns the live ones."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from realtime.ports import Client, FeedbackStage, FeedbackStore, Recorder, SpeechEngine
from realtime.protocol import CloseCode, Start
from realtime.registry import SessionRegistry
from realtime.session import PracticeSession
from realtime.settings import RealtimeSettings
from storage.access import Principal
from storage.errors import InvalidInput
from storage.practice import ExerciseInfo

log = logging.getLogger("parley.practice")

ExerciseLookup = Callable[[uuid.UUID, Principal], Awaitable[ExerciseInfo]]
Authenticate = Callable[[str], Principal]


class LoadableEngine(SpeechEngine, Protocol):
    async def load(self) -> None: ...

    def close(self) -> None: ...


class PracticeService:
    def __init__(
        self,
        *,
        settings: RealtimeSettings,
        engine: LoadableEngine,
        recorder: Recorder,
        exercises: ExerciseLookup,
        authenticate: Authenticate,
        interim_interval_s: float,
        feedback: FeedbackStage | None = None,
        feedback_store: FeedbackStore | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`feedback`: the stage run after each final (None: no `feedback` messages);
        `on_close`: releases what the caller built for the service (the LLM client), after
        the sessions' background work is cancelled."""
        self.settings = settings
        self.engine = engine
        self.authenticate = authenticate
        self.registry = SessionRegistry(settings.max_sessions_per_user)
        self._recorder = recorder
        self._exercises = exercises
        self._interval_s = interim_interval_s
        self._feedback = feedback
        self._feedback_store = feedback_store
        self._on_close = on_close

    async def start(self, message: Start, who: Principal, client: Client) -> PracticeSession:
        if message.resume is not None:
            session = self.registry.resume(
                message.resume.session_id, message.resume.token, who.user_id
            )
            previous = session.attach(client, resumed=True)
            if previous is not None and previous is not client:
                previous.close(CloseCode.CONFLICT, "the session was resumed elsewhere")
            return session
        if message.exercise_id is None:
            raise InvalidInput("start needs an exercise_id", code="bad_message")
        self.registry.check_room(who.user_id)
        exercise = await self._exercises(message.exercise_id, who)
        await self.engine.load()
        session = PracticeSession(
            learner_id=who.user_id,
            exercise=exercise,
            audio_format=message.audio,
            interim=message.interim,
            engine=self.engine,
            recorder=self._recorder,
            settings=self.settings,
            interim_interval_s=self._interval_s,
            on_end=self.registry.remove,
            feedback=self._feedback,
            feedback_store=self._feedback_store,
        )
        # Registered before the first await below, so concurrent starts see it in the limit.
        self.registry.check_room(who.user_id)
        self.registry.add(session)
        try:
            await self._recorder.started(
                session.id, who.user_id, exercise, message.audio.sample_rate
            )
        except BaseException:
            self.registry.remove(session)
            raise
        session.begin(client)
        log.info("session %s started by %s", session.id, who.user_id)
        return session

    async def close(self) -> None:
        for session in self.registry:
            await session.aclose()
        if self._on_close is not None:
            await self._on_close()
        self.engine.close()
