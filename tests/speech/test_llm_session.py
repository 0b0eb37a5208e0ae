"""The feedback stage wired into a live session (fakes: no server, model or LLM): `final`
first and unchanged, then `feedback`; stored even without a client; cancelled on shutdown."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from realtime.protocol import Feedback, Final, Resume, Start
from realtime.service import PracticeService
from realtime.session import PracticeSession
from realtime.session_state import State
from realtime.settings import RealtimeSettings
from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.llm.schema import LlmFeedback
from speech.llm.settings import LlmSettings
from speech.llm.stage import FeedbackStage
from storage.access import Principal
from storage.practice import ExerciseInfo
from tests.realtime.fakes import (
    LIMIT_S,
    FakeClient,
    FakeEngine,
    FakeRecorder,
    authenticating,
    exercise,
    exercises_of,
    learner,
    tone,
)
from tests.speech.llm_server import valid_feedback

AUDIO = tone(1) + tone(2) + tone(3)


class FakeStage:
    """Answers LLM feedback; `hold` keeps it waiting (a slow LLM) until set."""

    def __init__(self) -> None:
        self.requests: list[FeedbackRequest] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.running = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def run(self, request: FeedbackRequest) -> FeedbackResult:
        self.requests.append(request)
        self.running.set()
        try:
            await self.hold.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return FeedbackResult(
            source="llm",
            reason=None,
            feedback=LlmFeedback.model_validate(valid_feedback()),
            model="fake-llm",
            latency_ms=5,
            attempts=1,
        )


class FakeStore:
    def __init__(self) -> None:
        self.stored: list[tuple[uuid.UUID, FeedbackResult]] = []
        self.fail: Exception | None = None
        self.called = asyncio.Event()

    async def feedback(self, session_id: uuid.UUID, result: FeedbackResult) -> None:
        self.stored.append((session_id, result))
        self.called.set()
        if self.fail is not None:
            raise self.fail


@dataclass
class World:
    service: PracticeService
    engine: FakeEngine
    recorder: FakeRecorder
    stage: FakeStage
    store: FakeStore
    closed: asyncio.Event
    exercise: ExerciseInfo
    who: Principal

    async def session(self, client: FakeClient) -> PracticeSession:
        """A session that got its audio and a `stop`."""
        start = Start(type="start", exercise_id=self.exercise.id)
        session = await self.service.start(start, self.who, client)
        session.audio(AUDIO)
        session.stop()
        return session


MakeWorld = Callable[..., World]


@pytest.fixture
async def make_world() -> AsyncIterator[MakeWorld]:
    worlds: list[World] = []

    def make(*, stage: Any = None, **settings: Any) -> World:
        known = exercise()
        engine, recorder, store = FakeEngine(), FakeRecorder(), FakeStore()
        fake = FakeStage()
        closed = asyncio.Event()

        async def on_close() -> None:
            closed.set()

        who = learner()
        service = PracticeService(
            settings=RealtimeSettings(**({"audio_received_interval_ms": 10_000} | settings)),
            engine=engine,
            recorder=recorder,
            exercises=exercises_of(known),
            authenticate=authenticating(lambda: who),
            interim_interval_s=0.005,
            feedback=stage or fake,
            feedback_store=store,
            on_close=on_close,
        )
        worlds.append(World(service, engine, recorder, fake, store, closed, known, who))
        return worlds[-1]

    yield make
    for world in worlds:
        await world.service.close()


async def wait(event: asyncio.Event) -> None:
    async with asyncio.timeout(LIMIT_S):
        await event.wait()


async def feedback_of(client: FakeClient) -> Feedback:
    message = await client.until("feedback")
    assert isinstance(message, Feedback)
    return message


async def test_final_then_feedback_stored_before_it_is_sent(make_world: MakeWorld) -> None:
    world = make_world()
    client = FakeClient()
    session = await world.session(client)
    feedback = await feedback_of(client)
    types = client.types()
    assert types.index("final") < types.index("feedback") and types.count("feedback") == 1
    assert (feedback.session_id, feedback.source, feedback.model) == (session.id, "llm", "fake-llm")
    assert feedback.reason is None and feedback.feedback.corrections[0].suggestion == "your"
    ((stored_id, result),) = world.store.stored
    assert stored_id == session.id and result.feedback == feedback.feedback
    (request,) = world.stage.requests
    assert request.kind == "read_aloud" and request.reference == "w1 w2 w3"
    assert request.evaluation["transcript"] == "w1 w2 w3"
    assert len(world.service.registry) == 0  # released once the feedback is out


async def test_final_does_not_wait_for_a_slow_llm(make_world: MakeWorld) -> None:
    world = make_world(max_sessions_per_user=1)
    world.stage.hold.clear()
    client = FakeClient()
    session = await world.session(client)
    final = await client.until("final")
    assert isinstance(final, Final)
    await wait(world.stage.running)
    assert session.state is State.DONE and session.finished.is_set()
    # Still registered (shutdown must find the task), but no longer a live session: the
    # learner may start the next one.
    assert len(world.service.registry) == 1
    other = FakeClient()
    await world.session(other)  # raises TooManyRequests if the first one counted as live
    world.stage.hold.set()
    await feedback_of(client)
    await feedback_of(other)


async def test_feedback_is_stored_without_a_client_and_resent_on_resume(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    world.stage.hold.clear()
    client = FakeClient()
    session = await world.session(client)
    await client.until("final")
    session.detach(client)
    world.stage.hold.set()
    await wait(world.store.called)
    assert "feedback" not in client.types()
    back = FakeClient()
    resume = Start(type="start", resume=Resume(session_id=session.id, token=session.resume_token))
    await world.service.start(resume, world.who, back)
    assert back.types() == ["ack", "final", "feedback"]


async def test_shutdown_cancels_pending_feedback_then_closes_the_stage(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    world.stage.hold.clear()
    client = FakeClient()
    await world.session(client)
    await wait(world.stage.running)
    await world.service.close()
    assert world.stage.cancelled.is_set() and world.closed.is_set()
    assert world.store.stored == [] and "feedback" not in client.types()
    assert len(world.service.registry) == 0


async def test_feedback_is_sent_when_storing_it_fails(make_world: MakeWorld) -> None:
    world = make_world()
    world.store.fail = RuntimeError("database gone")
    client = FakeClient()
    await world.session(client)
    assert (await feedback_of(client)).source == "llm"


async def test_unsaved_result_gets_feedback_but_nothing_to_merge_into(
    make_world: MakeWorld,
) -> None:
    world = make_world()
    world.recorder.fail_completed = RuntimeError("disk full")
    client = FakeClient()
    await world.session(client)
    await feedback_of(client)
    assert "not_saved" in [getattr(m, "code", None) for m in client.messages]
    assert world.store.stored == []


async def test_failed_evaluation_asks_for_no_feedback(make_world: MakeWorld) -> None:
    world = make_world()
    world.engine.fail = RuntimeError("boom")
    client = FakeClient()
    session = await world.session(client)
    await client.until("error")
    async with asyncio.timeout(LIMIT_S):
        await session.finished.wait()
    assert world.stage.requests == [] and len(world.service.registry) == 0


async def test_stage_off_still_sends_local_feedback(make_world: MakeWorld) -> None:
    world = make_world(stage=FeedbackStage(LlmSettings(), client=None))
    client = FakeClient()
    await world.session(client)
    feedback = await feedback_of(client)
    assert (feedback.source, feedback.reason, feedback.model) == ("local", "not_configured", None)
    assert world.store.stored[0][1].source == "local"
