"""Both websockets fuzzed over a real server: malformed JSON, wrong types, unknown fields,
huge and odd-sized frames, frames out of order. Each gets the answer docs/protocol.md
gives it, the server stays up, its log shows no error and no traceback (checked after every
test), and a normal session works at the end.

Rate limits are off so that a flood of frames is answered frame by frame, not with 4429
(tested in test_ws_hardening.py). Generated frames are derandomized: CI sends the same ones.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from realtime.protocol import CloseCode
from tests.realtime.client import JFK, JFK_TEXT, learner, pcm
from tests.realtime.fuzz_messages import (
    OBSERVE,
    PRACTICE,
    allowed,
    messages,
    reply_class,
)
from tests.realtime.observer import School, build_school, observer
from tests.realtime.server import sqlite_server
from tests.realtime.wire import Wire, assert_up, log_problems, wire

pytestmark = pytest.mark.slow

MAX_FRAME = 65536
UVICORN_MAX = 16 * 1024 * 1024
PRACTICE_PATH, OBSERVE_PATH = "/v1/ws/practice", "/v1/ws/observe"
FUZZ = settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# What each practice message may be answered with before a session (§3, §7).
BEFORE_START = {
    "start": {
        f"error:{code}"
        for code in (
            "bad_message",
            "unsupported_audio",
            "exercise_not_found",
            "not_resumable",
            "bad_resume_token",
        )
    },
    "audio_chunk": {"error:bad_message", "error:not_started"},
    "stop": {"error:bad_message", "error:not_started"},
    "cancel": {"error:bad_message", "error:not_started"},
    "ping": {"error:bad_message", "pong"},
}
# Mid-session every frame fuzzed is refused (it has an unknown field), the session unmoved.
MID_SESSION = {kind: {"error:bad_message", "error:unsupported_audio"} for kind in PRACTICE}
# What an observer (a learner, with no subscription of their own) may get (observe §3, §4).
OBSERVING = {
    "subscribe": {"subscribed", "reload"}
    | {
        f"error:{code}"
        for code in (
            "bad_message",
            "course_not_found",
            "learner_not_found",
            "session_not_found",
            "forbidden",
        )
    },
    "unsubscribe": {"error:bad_message", "error:not_subscribed", "unsubscribed"},
    "ping": {"error:bad_message", "pong"},
}


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    with sqlite_server(
        tmp_path_factory.mktemp("fuzz"),
        PARLEY_SERVER__LOG_LEVEL="info",
        PARLEY_LIMITS__ENABLED="false",
        PARLEY_REALTIME__MAX_FRAME_BYTES=str(MAX_FRAME),
    ) as server:
        yield build_school(server)
    # Also what was logged after the last test's own check, the shutdown included.
    assert log_problems(server) == []


@pytest.fixture(autouse=True)
def server_stays_well(school: School) -> Iterator[None]:
    since = school.server.log.stat().st_size
    yield
    assert_up(school.server)
    assert log_problems(school.server, since) == []


def one_answer(ws: Wire, frame: str | bytes, may: set[str]) -> dict[str, Any]:
    replies = ws.exchange(frame)
    assert len(replies) == 1, (frame, replies)
    assert reply_class(replies[0]) in may, (frame, replies[0], may)
    assert replies[0].get("fatal", False) is False, (frame, replies[0])
    return replies[0]


def finish(ws: Wire, total: int | None = None) -> dict[str, Any]:
    """After `stop`: the messages up to the feedback, in the documented order (§2, §4);
    returns the final."""
    received = [ws.recv()]
    while received[-1]["type"] != "feedback":
        received.append(ws.recv())
    kinds = [m["type"] for m in received]
    # `audio_received` of frames may come or not; the total comes right before `processing`.
    assert [k for k in kinds if k != "audio_received"] == ["processing", "final", "feedback"]
    assert kinds[-4:-2] == ["audio_received", "processing"], kinds
    if total is not None:
        assert received[-4]["bytes"] == total
    return received[-2]


def test_practice_fuzz_before_start(school: School) -> None:
    with wire(school.server, PRACTICE_PATH, school.person("learner").token) as ws:

        @FUZZ
        @given(text=messages(PRACTICE))
        def fuzz(text: str) -> None:
            one_answer(ws, text, allowed(text, BEFORE_START))

        fuzz()


def test_practice_fuzz_mid_session_leaves_the_session_going(school: School) -> None:
    with wire(school.server, PRACTICE_PATH, school.person("learner").token) as ws:
        ws.send(type="start", exercise_id=school.exercise, interim=False)
        ws.until("ack")

        @FUZZ
        @given(text=messages(PRACTICE, valid_ones=False))
        def fuzz(text: str) -> None:
            one_answer(ws, text, allowed(text, MID_SESSION))

        fuzz()
        audio = pcm(JFK)[:MAX_FRAME]
        ws.ws.send(audio)
        ws.send(type="stop")
        final = finish(ws, len(audio))
    assert final["audio_ms"] == len(audio) // 32 and "fellow" in final["transcript"].lower()


def test_odd_sized_binary_frames_in_every_state(school: School) -> None:
    odd = [b"\x01", b"\x01\x02\x03", bytes(4095), b""]
    with wire(school.server, PRACTICE_PATH, school.person("learner").token) as ws:
        for frame in [*odd, bytes(MAX_FRAME)]:
            assert one_answer(ws, frame, {"error:not_started"})["message"]
        ws.send(type="start", exercise_id=school.exercise, interim=False)
        ws.until("ack")
        # Audio is taken whatever its length, a split sample joined with the next frame.
        for frame in odd:
            assert {m["type"] for m in ws.exchange(frame)} <= {"audio_received"}
        ws.send(type="stop")
        final = finish(ws, sum(map(len, odd)))
        assert final["audio_ms"] == sum(map(len, odd)) // 32
        for frame in odd:
            one_answer(ws, frame, {"error:not_streaming"})
        chunk = json.dumps({"type": "audio_chunk", "seq": 0, "data": "AAE="})
        one_answer(ws, chunk, {"error:not_streaming"})


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        ("x" * (MAX_FRAME + 1), "text over the limit"),
        ("é" * (MAX_FRAME // 2 + 1), "text under the limit in characters, over it in bytes"),
        (bytes(MAX_FRAME + 1), "binary over the limit"),
    ],
)
def test_practice_frames_over_the_limit_close_with_4413(
    school: School, frame: str | bytes, why: str
) -> None:
    with wire(school.server, PRACTICE_PATH, school.person("learner").token) as ws:
        ws.ws.send(frame)
        code, before = ws.closed()
    assert code == CloseCode.TOO_LARGE, why
    assert [(m["code"], m["fatal"]) for m in before] == [("frame_too_large", True)], why


def test_frames_at_the_limit_are_read_and_over_uvicorns_limit_refused(school: School) -> None:
    with wire(school.server, PRACTICE_PATH, school.person("learner").token) as ws:
        one_answer(ws, "x" * MAX_FRAME, {"error:bad_message"})
        one_answer(ws, "{" + " " * (MAX_FRAME - 2) + "}", {"error:unknown_message"})
        ws.push(bytes(UVICORN_MAX + 1))
        code, before = ws.closed()
    # uvicorn refuses it before Parley sees it (docs/protocol.md §7, "Frame too large"): it
    # closes with 1009 while the frame still arrives, so the close frame may be lost to the
    # TCP reset of a socket closed with unread data (then the client sees no code).
    assert code in (1009, None) and before == []


def test_practice_messages_out_of_order(school: School) -> None:
    person = school.person("learner")
    audio = pcm(JFK)[: 16000 * 2]
    with wire(school.server, PRACTICE_PATH, person.token) as ws:
        for kind in ("stop", "cancel"):
            one_answer(ws, json.dumps({"type": kind}), {"error:not_started"})
        start = {"type": "start", "exercise_id": school.exercise, "interim": False}
        ack = ws.exchange(json.dumps(start))[0]
        assert ack["type"] == "ack"
        one_answer(ws, json.dumps(start), {"error:already_started"})
        for resume, answer in [
            ({"session_id": ack["session_id"], "token": "garbage"}, "bad_resume_token"),
            ({"session_id": str(uuid.uuid4()), "token": ack["resume_token"]}, "not_resumable"),
            ({"session_id": ack["session_id"], "token": 12345}, "bad_message"),
            ({"session_id": "not-a-uuid", "token": "x"}, "bad_message"),
        ]:
            one_answer(ws, json.dumps({"type": "start", "resume": resume}), {f"error:{answer}"})
        assert ws.exchange(json.dumps({"type": "cancel"})) == []  # cancel has no reply
        for frame in (json.dumps({"type": "stop"}), b"\x00\x01\x02"):
            one_answer(ws, frame, {"error:not_streaming"})
        # Pipelined, with no wait for the ack: frames are taken in the order sent.
        ws.ws.send(json.dumps(start))
        ws.ws.send(audio)
        ws.send(type="stop")
        assert ws.recv()["type"] == "ack"
        final = finish(ws, len(audio))
        assert final["session_id"] != ack["session_id"]
        again = ws.exchange(json.dumps({"type": "stop"}))  # the same final, and its feedback
        assert again[0] == final and [m["type"] for m in again] == ["final", "feedback"]
        assert ws.exchange(json.dumps({"type": "cancel"})) == []  # ignored once done
        chunk = {"type": "audio_chunk", "seq": 0, "data": base64.b64encode(audio[:4]).decode()}
        one_answer(ws, json.dumps(chunk), {"error:not_streaming"})


def test_observe_fuzz(school: School) -> None:
    with wire(school.server, OBSERVE_PATH, school.person("learner").token) as ws:

        @FUZZ
        @given(text=messages(OBSERVE))
        def fuzz(text: str) -> None:
            one_answer(ws, text, allowed(text, OBSERVING))

        fuzz()


def test_observe_frames_and_order(school: School) -> None:
    channel = {"kind": "course", "id": school.course}
    with wire(school.server, OBSERVE_PATH, school.tutor.token) as ws:
        for frame in (b"\x01", b"\x01\x02\x03", bytes(4095), b""):
            one_answer(ws, frame, {"error:bad_message"})
        one_answer(ws, "x" * 4096, {"error:bad_message"})
        unsubscribe = json.dumps({"type": "unsubscribe", "channel": channel})
        subscribe = json.dumps({"type": "subscribe", "channel": channel})
        one_answer(ws, unsubscribe, {"error:not_subscribed"})
        one_answer(ws, subscribe, {"subscribed"})
        one_answer(ws, subscribe, {"subscribed"})  # again: answered alike
        stale = {"type": "subscribe", "channel": channel, "offset": 3, "epoch": "garbage"}
        assert one_answer(ws, json.dumps(stale), {"reload"})["reason"] == "epoch_changed"
        one_answer(ws, json.dumps({**stale, "epoch": None}), {"error:bad_message"})
        one_answer(ws, subscribe, {"subscribed"})
        one_answer(ws, unsubscribe, {"unsubscribed"})
        one_answer(ws, unsubscribe, {"error:not_subscribed"})
    big: str | bytes
    for big in ("x" * 4097, "é" * 2049, bytes(4097)):
        with wire(school.server, OBSERVE_PATH, school.tutor.token) as ws:
            ws.ws.send(big)
            code, before = ws.closed()
        assert code == CloseCode.TOO_LARGE, big[:4]
        assert [(m["code"], m["fatal"]) for m in before] == [("frame_too_large", True)]


@pytest.mark.parametrize("path", [PRACTICE_PATH, OBSERVE_PATH])
@pytest.mark.parametrize("token", [None, "garbage", "a.b.c", "x" * 2000])
def test_bad_tokens_close_with_4401(school: School, path: str, token: str | None) -> None:
    with wire(school.server, path, token) as ws:
        code, before = ws.closed()
    assert code == CloseCode.UNAUTHORIZED and before == []


async def test_after_all_this_a_normal_session_still_works(school: School) -> None:
    person = school.person("learner")
    async with observer(school.server, school.tutor.token) as watching:
        assert (await watching.subscribe("course", school.course))["type"] == "subscribed"
        async with learner(school.server, person.token) as client:
            await client.send(type="start", exercise_id=school.exercise)
            await client.until("ack")
            await client.stream(pcm(JFK), pace_s=0.0)
            await client.send(type="stop")
            final = await client.until("final")
        seen = await watching.event("final")
    assert "ask not what your country" in final["transcript"].lower()
    assert seen["event"]["message"]["transcript"] == final["transcript"]
    assert final["evaluation"]["reference"] == JFK_TEXT
