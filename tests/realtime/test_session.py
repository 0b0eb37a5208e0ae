"""PracticeSession, SessionRegistry and PracticeService with fakes: no server, no model.

Every wait is bounded (`LIMIT_S`) and waits on an event, a message or `session.finished`.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from realtime.protocol import (
    Ack,
    AudioFormat,
    AudioReceived,
    CloseCode,
    Error,
    Final,
    InterimTranscript,
    Resume,
    Start,
)
from realtime.service import PracticeService
from realtime.session import PracticeSession
from realtime.session_state import State
from realtime.settings import RealtimeSettings
from speech.audio import pcm16_to_float
from storage.access import Principal
from storage.errors import InvalidInput, NotFound, TooManyRequests, Unauthenticated
from storage.models import SessionStatus
from storage.practice import ExerciseInfo
from tests.realtime.fakes import (
    BLOCK,
    LIMIT_S,
    FakeClient,
    FakeEngine,
    FakeRecorder,
    FakeTranscriber,
    authenticating,
    exercise,
    exercises_of,
    learner,
    tone,
)


@dataclass
class World:
    service: PracticeService
    engine: FakeEngine
    recorder: FakeRecorder
    exercise: ExerciseInfo

    @property
    def registry_size(self) -> int:
        return len(self.service.registry)

    async def start(
        self, who: Principal, client: FakeClient, *, interim: bool = True, rate: int = 16_000
    ) -> PracticeSession:
        message = Start(
            type="start",
            exercise_id=self.exercise.id,
            interim=interim,
            audio=AudioFormat(sample_rate=rate),
        )
        return await self.service.start(message, who, client)

    async def resume(
        self, who: Principal, client: FakeClient, session_id: uuid.UUID, token: str
    ) -> PracticeSession:
        message = Start(type="start", resume=Resume(session_id=session_id, token=token))
        return await self.service.start(message, who, client)

    def transcriber(self, index: int = 0) -> FakeTranscriber:
        return self.engine.transcribers[index]


MakeWorld = Callable[..., World]


@pytest.fixture
async def make_world() -> AsyncIterator[MakeWorld]:
    worlds: list[World] = []

    def make(*, time_limit_s: int | None = None, **settings: Any) -> World:
        known = exercise(time_limit_s=time_limit_s)
        engine, recorder = FakeEngine(), FakeRecorder()
        service = PracticeService(
            settings=RealtimeSettings(**({"audio_received_interval_ms": 10_000} | settings)),
            engine=engine,
            recorder=recorder,
            exercises=exercises_of(known),
            authenticate=authenticating(learner),
            interim_interval_s=0.005,
        )
        worlds.append(World(service, engine, recorder, known))
        return worlds[-1]

    yield make
    for world in worlds:
        await world.service.close()


async def finished(session: PracticeSession) -> None:
    async with asyncio.timeout(LIMIT_S):
        await session.finished.wait()


async def wait(event: asyncio.Event) -> None:
    async with asyncio.timeout(LIMIT_S):
        await event.wait()


async def final_of(client: FakeClient) -> Final:
    message = await client.until("final")
    assert isinstance(message, Final)
    return message


async def error_of(client: FakeClient) -> Error:
    message = await client.until("error")
    assert isinstance(message, Error)
    return message


def ack_of(client: FakeClient) -> Ack:
    acks = [m for m in client.messages if isinstance(m, Ack)]
    assert acks, client.types()
    return acks[-1]


AUDIO = tone(1) + tone(2) + tone(3)


# stop and the final


async def test_stop_sends_processing_then_the_final_and_stores_it_once(
    make_world: MakeWorld,
) -> None:
    world, client, who = make_world(), FakeClient(), learner()
    session = await world.start(who, client)
    ack = ack_of(client)
    assert client.messages[0] == ack and not ack.resumed and ack.received_bytes == 0
    assert ack.session_id == session.id and ack.resume_token == session.resume_token
    assert world.recorder.starts == [(session.id, who.user_id, 16_000)]

    for value in (1, 2, 3):
        session.audio(tone(value))
    session.stop()
    final = await final_of(client)
    await finished(session)

    types = client.types()
    assert types.index("processing") < types.index("final")
    assert types[types.index("processing") - 1] == "audio_received"
    receipt = client.messages[types.index("processing") - 1]
    assert isinstance(receipt, AudioReceived) and receipt.bytes == len(AUDIO)
    assert final.session_id == session.id
    assert final.transcript == "w1 w2 w3" and final.audio_ms == 300
    assert [(w.word, w.start, w.end) for w in final.words] == [
        ("w1", 0.0, 0.1),
        ("w2", 0.1, 0.2),
        ("w3", 0.2, 0.3),
    ]
    assert final.evaluation["scores"]["overall"] == 88

    assert len(world.recorder.completions) == 1
    session_id, audio, transcript, evaluation = world.recorder.completions[0]
    assert session_id == session.id and transcript.text == final.transcript
    np.testing.assert_array_equal(audio, pcm16_to_float(AUDIO))
    assert evaluation == final.evaluation
    assert world.recorder.endings == []
    assert session.state is State.DONE and world.registry_size == 0


async def test_stop_twice_sends_the_same_final_again(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    session = await world.start(learner(), client)
    session.audio(AUDIO)
    world.engine.hold.clear()
    session.stop()
    await wait(world.engine.evaluating)
    session.stop()  # while processing: the coming final answers it too
    world.engine.hold.set()
    first = await final_of(client)
    await finished(session)

    session.stop()
    again = await final_of(client)
    assert again == first
    assert client.types().count("final") == 2 and not client.of_type("error")
    assert len(world.recorder.completions) == 1 and world.transcriber().finalized == 1


async def test_audio_after_stop_is_refused(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    session = await world.start(learner(), client)
    session.audio(tone(1))
    session.stop()
    session.audio(tone(2))
    error = await error_of(client)
    assert error.code == "not_streaming" and not error.fatal
    final = await final_of(client)
    assert final.transcript == "w1"
    await finished(session)
    session.audio(tone(3))
    assert (await error_of(client)).code == "not_streaming"


async def test_cancel_ends_without_a_final(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    session = await world.start(learner(), client)
    session.audio(AUDIO)
    session.cancel()
    await finished(session)
    await wait(world.recorder.has_ended)

    [ended] = world.recorder.endings
    assert ended.session_id == session.id and ended.status is SessionStatus.CANCELLED
    assert ended.audio is None
    assert session.state is State.CANCELLED and world.registry_size == 0
    assert world.recorder.completions == []
    assert "final" not in client.types() and "processing" not in client.types()
    session.stop()
    error = await error_of(client)
    assert error.code == "not_streaming" and "cancelled" in error.message


# interim transcripts


async def test_interims_carry_committed_and_tentative_text(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    session = await world.start(learner(), client)
    session.audio(tone(1))
    first = await client.until("interim_transcript")
    session.audio(tone(2))
    second = await client.until("interim_transcript")
    assert first == InterimTranscript(committed="", tentative="w1", audio_ms=100)
    assert second == InterimTranscript(committed="w1", tentative="w2", audio_ms=200)
    session.stop()
    await final_of(client)


async def test_no_interims_when_the_client_asked_for_none(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    session = await world.start(learner(), client, interim=False)
    session.audio(AUDIO)
    await wait(world.transcriber().updated)
    session.stop()
    assert (await final_of(client)).transcript == "w1 w2 w3"
    assert "interim_transcript" not in client.types()


async def test_a_failed_interim_pass_never_takes_back_committed_text(
    make_world: MakeWorld,
) -> None:
    world, client = make_world(), FakeClient()
    session = await world.start(learner(), client)
    transcriber = world.transcriber()
    session.audio(tone(1))
    await client.until("interim_transcript")
    session.audio(tone(2))
    await client.until("interim_transcript")
    transcriber.fail_next_update = True
    session.audio(tone(3))
    await wait(transcriber.update_failed)
    session.audio(tone(4))
    while True:
        interim = await client.until("interim_transcript")
        assert isinstance(interim, InterimTranscript)
        if interim.tentative == "w4":
            break
    session.stop()
    await final_of(client)
    committed = [m.committed for m in client.messages if isinstance(m, InterimTranscript)]
    for earlier, later in itertools.pairwise(committed):
        assert later.startswith(earlier), committed


# audio_received


async def test_audio_received_is_paced_and_sent_before_processing(
    make_world: MakeWorld,
) -> None:
    world, client = make_world(audio_received_interval_ms=60_000), FakeClient()
    session = await world.start(learner(), client)
    for value in (1, 2, 3):
        session.audio(tone(value))
    receipts = [m for m in client.messages if isinstance(m, AudioReceived)]
    assert [r.bytes for r in receipts] == [len(tone(1))], "at most one per interval"
    session.stop()
    await final_of(client)
    receipts = [m for m in client.messages if isinstance(m, AudioReceived)]
    assert receipts[-1].bytes == len(AUDIO)


# limits


async def test_audio_limit_keeps_exactly_the_limit_then_finishes(make_world: MakeWorld) -> None:
    world, client = make_world(max_audio_s=0.25), FakeClient()
    session = await world.start(learner(), client)
    assert ack_of(client).limits.max_audio_ms == 250
    limit_bytes = int(0.25 * 16_000) * 2

    for value in (1, 2, 3):
        session.audio(tone(value))  # 9600 bytes against a limit of 8000
    error = await error_of(client)
    assert error.code == "audio_limit" and not error.fatal
    final = await final_of(client)
    await finished(session)

    types = client.types()
    assert types.index("error") < types.index("processing") < types.index("final")
    assert final.audio_ms == 250 and final.transcript == "w1 w2"
    assert session.received_bytes == limit_bytes
    assert client.of_type("audio_received")[-1] == AudioReceived(bytes=limit_bytes)
    [(_, audio, _, _)] = world.recorder.completions
    np.testing.assert_array_equal(audio, pcm16_to_float(AUDIO[:limit_bytes]))


async def test_audio_limit_exactly_reached_also_finishes(make_world: MakeWorld) -> None:
    world, client = make_world(max_audio_s=0.2), FakeClient()
    session = await world.start(learner(), client)
    session.audio(tone(1) + tone(2))
    assert (await error_of(client)).code == "audio_limit"
    assert (await final_of(client)).transcript == "w1 w2"


async def test_the_exercise_time_limit_caps_audio(make_world: MakeWorld) -> None:
    world, client = make_world(time_limit_s=1, max_audio_s=120), FakeClient()
    await world.start(learner(), client)
    limits = ack_of(client).limits
    assert limits.max_audio_ms == 1000
    assert limits.max_session_ms == 600_000 and limits.resume_grace_ms == 60_000


async def test_audio_at_8_khz_is_resampled_and_limited_in_its_own_bytes(
    make_world: MakeWorld,
) -> None:
    world, client = make_world(max_audio_s=0.5), FakeClient()
    session = await world.start(learner(), client, rate=8_000)
    assert ack_of(client).limits.max_audio_ms == 500
    session.audio(tone(1, blocks=4, rate=8_000))  # 400 ms: 6400 bytes at 8 kHz
    session.stop()
    await final_of(client)
    assert session.received_bytes == 6400
    [(_, audio, _, _)] = world.recorder.completions
    assert abs(len(audio) - 6400) <= 2, "400 ms at 16 kHz"


async def test_session_time_limit_sends_an_error_then_the_final(make_world: MakeWorld) -> None:
    world, client = make_world(max_session_s=0.05), FakeClient()
    session = await world.start(learner(), client)
    session.audio(tone(1))
    error = await error_of(client)
    assert error.code == "session_limit" and not error.fatal
    assert (await final_of(client)).transcript == "w1"
    await finished(session)
    assert len(world.recorder.completions) == 1


# failures while finishing


async def test_a_failed_evaluation_is_answered_and_recorded(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    world.engine.fail = RuntimeError("scorer crashed")
    session = await world.start(learner(), client)
    session.audio(AUDIO)
    session.stop()
    error = await error_of(client)
    assert error.code == "evaluation_failed" and error.message == "scorer crashed"
    await finished(session)

    [ended] = world.recorder.endings
    assert ended.status is SessionStatus.FAILED and "scorer crashed" in ended.reason
    assert ended.audio is not None
    np.testing.assert_array_equal(ended.audio, pcm16_to_float(AUDIO))
    assert world.recorder.completions == [] and "final" not in client.types()
    assert session.state is State.DONE and world.registry_size == 0
    # A repeated stop is answered again with what answered the first.
    session.stop()
    assert (await error_of(client)).code == "evaluation_failed"


async def test_a_failed_evaluation_finishes_even_if_it_cannot_be_recorded(
    make_world: MakeWorld,
) -> None:
    world, client = make_world(), FakeClient()
    world.engine.fail = RuntimeError("scorer crashed")
    world.recorder.fail_ended = RuntimeError("database down")
    session = await world.start(learner(), client)
    session.audio(AUDIO)
    session.stop()
    assert (await error_of(client)).code == "evaluation_failed"
    async with asyncio.timeout(0.5):
        await session.finished.wait()
    assert world.registry_size == 0


async def test_a_final_that_cannot_be_stored_is_still_sent(make_world: MakeWorld) -> None:
    world, client = make_world(), FakeClient()
    world.recorder.fail_completed = RuntimeError("database down")
    session = await world.start(learner(), client)
    session.audio(AUDIO)
    session.stop()
    final = await final_of(client)
    error = await error_of(client)
    assert final.transcript == "w1 w2 w3"
    assert error.code == "not_saved" and not error.fatal
    assert client.types().index("final") < client.types().index("error")
    await finished(session)
    session.stop()
    assert await final_of(client) == final, "a repeated stop still gets the final"


# detach and resume


async def test_resume_within_grace_continues_where_the_server_stopped(
    make_world: MakeWorld,
) -> None:
    world, who = make_world(), learner()
    first, second = FakeClient(), FakeClient()
    session = await world.start(who, first)
    session.audio(tone(1) + tone(2))
    session.detach(first)
    assert world.registry_size == 1 and session.state is State.STREAMING

    resumed = await world.resume(who, second, session.id, session.resume_token)
    assert resumed is session
    ack = second.messages[0]
    assert isinstance(ack, Ack) and ack.resumed and ack.session_id == session.id
    assert ack.received_bytes == len(tone(1) + tone(2))
    assert first.closes == [], "a client that had already gone is not closed again"

    session.audio(AUDIO[ack.received_bytes :])
    session.stop()
    final = await final_of(second)
    assert final.transcript == "w1 w2 w3" and "final" not in first.types()

    # The same audio without the interruption gives the same final.
    other = FakeClient()
    straight = await world.start(learner(), other)
    straight.audio(AUDIO)
    straight.stop()
    assert (await final_of(other)).transcript == final.transcript


async def test_a_final_computed_while_away_is_delivered_on_resume(make_world: MakeWorld) -> None:
    world, who = make_world(), learner()
    first, second = FakeClient(), FakeClient()
    session = await world.start(who, first)
    session.audio(AUDIO)
    world.engine.hold.clear()
    session.stop()
    await wait(world.engine.evaluating)
    session.detach(first)  # the connection drops while the result is computed
    world.engine.hold.set()
    await finished(session)
    assert session.state is State.DONE and "final" not in first.types()
    assert world.registry_size == 1, "a finished session waits for its client"

    await world.resume(who, second, session.id, session.resume_token)
    ack, final = second.messages[:2]
    assert isinstance(ack, Ack) and ack.resumed and ack.received_bytes == len(AUDIO)
    assert isinstance(final, Final) and final.transcript == "w1 w2 w3"
    assert len(world.recorder.completions) == 1


async def test_resuming_elsewhere_closes_the_old_connection(make_world: MakeWorld) -> None:
    world, who = make_world(), learner()
    first, second = FakeClient(), FakeClient()
    session = await world.start(who, first)
    await world.resume(who, second, session.id, session.resume_token)
    assert first.closes == [CloseCode.CONFLICT] and second.closes == []
    session.audio(AUDIO)
    session.stop()
    await final_of(second)
    assert "final" not in first.types()
    session.detach(first)  # the old connection's late detach changes nothing
    assert world.registry_size == 0 and session.state is State.DONE


async def test_grace_expiry_while_streaming_fails_the_session_keeping_audio(
    make_world: MakeWorld,
) -> None:
    world, who, client = make_world(resume_grace_s=0), learner(), FakeClient()
    session = await world.start(who, client)
    session.audio(tone(1) + tone(2))
    session.detach(client)
    await finished(session)
    await wait(world.recorder.has_ended)

    [ended] = world.recorder.endings
    assert ended.status is SessionStatus.FAILED and ended.reason == "connection lost"
    assert ended.audio is not None and len(ended.audio) == 2 * BLOCK
    assert session.state is State.ABANDONED and world.registry_size == 0
    assert world.recorder.completions == []
    with pytest.raises(NotFound) as caught:
        await world.resume(who, FakeClient(), session.id, session.resume_token)
    assert caught.value.code == "not_resumable"


# the registry and the service


async def test_sessions_per_user_are_limited(make_world: MakeWorld) -> None:
    world, who = make_world(max_sessions_per_user=2), learner()
    sessions = [await world.start(who, FakeClient()) for _ in range(2)]
    refused = FakeClient()
    with pytest.raises(TooManyRequests) as caught:
        await world.start(who, refused)
    assert caught.value.code == "too_many_sessions"
    assert refused.messages == [] and world.registry_size == 2
    assert len(world.recorder.starts) == 2

    await world.start(learner(), FakeClient())  # another learner is not affected
    sessions[0].cancel()
    await world.start(who, FakeClient())  # a cancelled session frees its place


async def test_a_finished_session_waiting_for_its_client_frees_its_place(
    make_world: MakeWorld,
) -> None:
    world, who = make_world(max_sessions_per_user=1), learner()
    client = FakeClient()
    session = await world.start(who, client)
    session.stop()
    session.detach(client)
    await finished(session)
    assert world.registry_size == 1
    await world.start(who, FakeClient())


async def test_resume_needs_the_token_and_the_same_learner(make_world: MakeWorld) -> None:
    world, who = make_world(), learner()
    client = FakeClient()
    session = await world.start(who, client)

    with pytest.raises(Unauthenticated) as wrong:
        await world.resume(who, FakeClient(), session.id, "guess")
    assert wrong.value.code == "bad_resume_token"
    with pytest.raises(NotFound) as stranger:
        await world.resume(learner(), FakeClient(), session.id, session.resume_token)
    assert stranger.value.code == "not_resumable"
    with pytest.raises(NotFound) as unknown:
        await world.resume(who, FakeClient(), uuid.uuid4(), session.resume_token)
    assert unknown.value.code == "not_resumable"
    assert client.closes == [] and len(client.of_type("ack")) == 1


async def test_start_needs_a_known_exercise(make_world: MakeWorld) -> None:
    world, who = make_world(), learner()
    with pytest.raises(InvalidInput) as missing:
        await world.service.start(Start(type="start"), who, FakeClient())
    assert missing.value.code == "bad_message"
    with pytest.raises(NotFound) as unknown:
        await world.service.start(Start(type="start", exercise_id=uuid.uuid4()), who, FakeClient())
    assert unknown.value.code == "exercise_not_found"
    assert world.registry_size == 0 and world.recorder.starts == []
