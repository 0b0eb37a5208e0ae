"""What a practice session tells observers (`SessionEvents`), with fakes: no server, no model."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from realtime.observe_protocol import EventMessage, SessionEnded, SessionStarted
from realtime.ports import SessionMeta
from realtime.protocol import AudioFormat, Final, InterimTranscript, Start
from realtime.service import PracticeService
from realtime.session import PracticeSession
from realtime.settings import RealtimeSettings
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


class Events:
    def __init__(self, *, broken: bool = False) -> None:
        self.seen: list[tuple[SessionMeta, EventMessage]] = []
        self.broken = broken
        self.ended = asyncio.Event()
        self.forgotten: list[uuid.UUID] = []

    def publish(self, session: SessionMeta, message: EventMessage) -> None:
        self.seen.append((session, message))
        if isinstance(message, SessionEnded):
            self.ended.set()
        if self.broken:
            raise RuntimeError("observers are down")

    def forget(self, session_id: uuid.UUID) -> None:
        self.forgotten.append(session_id)

    def types(self) -> list[str]:
        return [m.type for _, m in self.seen]


KNOWN = exercise()


@pytest.fixture
async def service() -> AsyncIterator[PracticeService]:
    made = PracticeService(
        settings=RealtimeSettings(audio_received_interval_ms=10_000),
        engine=FakeEngine(),
        recorder=FakeRecorder(),
        exercises=exercises_of(KNOWN),
        authenticate=authenticating(learner),
        interim_interval_s=0.005,
    )
    yield made
    await made.close()


async def start(service: PracticeService, events: Events, client: FakeClient) -> PracticeSession:
    service.events = events
    message = Start(type="start", exercise_id=KNOWN.id, audio=AudioFormat(sample_rate=16_000))
    return await service.start(message, learner(), client)


async def test_a_session_publishes_what_its_learner_sees_in_order(
    service: PracticeService,
) -> None:
    events, client = Events(), FakeClient()
    session = await start(service, events, client)
    for value in (1, 2, 3):
        session.audio(tone(value))
        await client.until("interim_transcript")
    session.stop()
    final = await client.until("final")
    async with asyncio.timeout(LIMIT_S):
        await events.ended.wait()
    session.stop()  # answered again to the learner, but not a new event
    await client.until("final")

    types = events.types()
    assert types[0] == "session_started" and types[-2:] == ["final", "session_ended"]
    published = [m for _, m in events.seen if isinstance(m, InterimTranscript)]
    assert published == client.of_type("interim_transcript") and published
    assert [m for _, m in events.seen if isinstance(m, Final)] == [final]
    started = events.seen[0][1]
    assert isinstance(started, SessionStarted) and started.exercise_title == session.exercise.title
    ended = events.seen[-1][1]
    assert isinstance(ended, SessionEnded) and ended.state == "done"
    meta = {m for m, _ in events.seen}
    assert meta == {
        SessionMeta(
            session.id,
            session.learner_id,
            session.exercise.course_id,
            session.exercise.id,
            session.exercise.title,
        )
    }


async def test_a_cancelled_session_ends_for_observers_too(service: PracticeService) -> None:
    events, client = Events(), FakeClient()
    session = await start(service, events, client)
    session.cancel()
    async with asyncio.timeout(LIMIT_S):
        await events.ended.wait()
    assert events.types() == ["session_started", "session_ended"]
    ended = events.seen[-1][1]
    assert isinstance(ended, SessionEnded) and ended.state == "cancelled"


async def test_failing_observers_cost_the_learner_nothing(service: PracticeService) -> None:
    events, client = Events(broken=True), FakeClient()
    session = await start(service, events, client)
    session.audio(tone(1))
    session.stop()
    final = await client.until("final")
    assert final.type == "final" and "session_ended" in events.types()
