"""The practice websocket's message models: what parses, what is refused, what is sent."""

from __future__ import annotations

import json
import typing
import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from realtime.endpoint import _invalid
from realtime.protocol import (
    MAX_SAMPLE_RATE,
    MIN_SAMPLE_RATE,
    Ack,
    AudioChunk,
    AudioFormat,
    AudioReceived,
    Cancel,
    CloseCode,
    Error,
    Feedback,
    Final,
    InterimTranscript,
    Limits,
    Ping,
    Pong,
    Processing,
    ServerMessage,
    Start,
    Stop,
    WordTiming,
    client_message,
)
from speech.llm.schema import LlmFeedback

EXERCISE = uuid.uuid4()


def parse(body: dict[str, Any]) -> Any:
    return client_message.validate_json(json.dumps(body))


def refusal(body: dict[str, Any] | str) -> ValidationError:
    text = body if isinstance(body, str) else json.dumps(body)
    with pytest.raises(ValidationError) as caught:
        client_message.validate_json(text)
    return caught.value


# client -> server


def test_start_with_defaults() -> None:
    start = parse({"type": "start", "exercise_id": str(EXERCISE)})
    assert isinstance(start, Start)
    assert start.exercise_id == EXERCISE and start.resume is None and start.interim is True
    assert start.audio == AudioFormat(encoding="pcm_s16le", sample_rate=16_000, channels=1)


def test_start_in_full() -> None:
    session_id = uuid.uuid4()
    start = parse(
        {
            "type": "start",
            "exercise_id": str(EXERCISE),
            "audio": {"encoding": "pcm_s16le", "sample_rate": 44_100, "channels": 1},
            "interim": False,
            "resume": {"session_id": str(session_id), "token": "t0k3n"},
        }
    )
    assert isinstance(start, Start)
    assert start.audio.sample_rate == 44_100 and not start.interim
    assert start.resume is not None
    assert start.resume.session_id == session_id and start.resume.token == "t0k3n"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"type": "audio_chunk", "seq": 0, "data": "AAA="}, AudioChunk),
        ({"type": "stop"}, Stop),
        ({"type": "cancel"}, Cancel),
        ({"type": "ping"}, Ping),
        ({"type": "ping", "id": "p1"}, Ping),
    ],
)
def test_each_message_type_parses_to_its_model(body: dict[str, Any], kind: type) -> None:
    assert type(parse(body)) is kind


@pytest.mark.parametrize("rate", [MIN_SAMPLE_RATE, 16_000, 22_050, MAX_SAMPLE_RATE])
def test_sample_rates_from_8_to_48_khz_are_accepted(rate: int) -> None:
    start = parse({"type": "start", "audio": {"sample_rate": rate}})
    assert isinstance(start, Start) and start.audio.sample_rate == rate


@pytest.mark.parametrize(
    "audio",
    [
        {"sample_rate": MIN_SAMPLE_RATE - 1},
        {"sample_rate": MAX_SAMPLE_RATE + 1},
        {"sample_rate": 96_000},
        {"channels": 2},
        {"encoding": "opus"},
        {"encoding": "pcm_s16le", "bits": 16},
    ],
)
def test_unsupported_audio_formats_are_refused(audio: dict[str, Any]) -> None:
    error = refusal({"type": "start", "exercise_id": str(EXERCISE), "audio": audio})
    assert _invalid(error).code == "unsupported_audio"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "stop", "now": True},
        {"type": "start", "exercise": str(EXERCISE)},
        {"type": "ping", "id": "p", "ts": 1},
        {"type": "start", "resume": {"session_id": str(uuid.uuid4()), "token": "t", "x": 1}},
    ],
)
def test_extra_fields_are_refused(body: dict[str, Any]) -> None:
    error = refusal(body)
    assert error.errors()[0]["type"] == "extra_forbidden"
    assert _invalid(error).code == "bad_message"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "start", "exercise_id": "not-a-uuid"},
        {"type": "start", "resume": {"session_id": str(uuid.uuid4()), "token": ""}},
        {"type": "ping", "id": "x" * 65},
    ],
)
def test_invalid_fields_are_bad_messages(body: dict[str, Any]) -> None:
    assert _invalid(refusal(body)).code == "bad_message"


@pytest.mark.parametrize(
    "body",
    [
        {"type": "audio_chunk", "seq": -1, "data": ""},
        {"type": "audio_chunk", "data": ""},
        {"type": "audio_chunk", "seq": 0, "data": "", "rate": 16000},
    ],
)
def test_a_malformed_audio_chunk_is_a_bad_message(body: dict[str, Any]) -> None:
    error = refusal(body)
    assert error.errors()[0]["loc"][0] == "audio_chunk"
    assert _invalid(error).code == "bad_message"


def test_unknown_and_missing_types_are_unknown_messages() -> None:
    unknown = refusal({"type": "dance"})
    assert unknown.errors()[0]["type"] == "union_tag_invalid"
    assert _invalid(unknown).code == "unknown_message"
    missing = refusal({"exercise_id": str(EXERCISE)})
    assert missing.errors()[0]["type"] == "union_tag_not_found"
    assert _invalid(missing).code == "unknown_message"


@pytest.mark.parametrize("text", ["{not json", "[]", '"start"', ""])
def test_text_that_is_not_a_message_object_is_a_bad_message(text: str) -> None:
    assert _invalid(refusal(text)).code == "bad_message"


def test_messages_are_immutable() -> None:
    stop = parse({"type": "stop"})
    with pytest.raises(ValidationError):
        stop.type = "cancel"


# server -> client

SESSION = uuid.uuid4()
LIMITS = Limits(
    max_frame_bytes=262_144,
    max_audio_ms=120_000,
    max_session_ms=600_000,
    idle_timeout_ms=30_000,
    resume_grace_ms=60_000,
)
SERVER_MESSAGES: list[ServerMessage] = [
    Ack(session_id=SESSION, resume_token="tok", limits=LIMITS),
    AudioReceived(bytes=3200),
    InterimTranscript(committed="ask not", tentative="what your", audio_ms=1500),
    Processing(),
    Final(
        session_id=SESSION,
        transcript="Ask not.",
        words=[WordTiming(word="Ask", start=0.0, end=0.3, probability=0.91)],
        audio_ms=800,
        evaluation={"scores": {"overall": 80}},
    ),
    Error(code="not_streaming", message="the session no longer takes audio"),
    Pong(id="p1"),
    Feedback(
        session_id=SESSION,
        source="local",
        reason="not_configured",
        model=None,
        feedback=LlmFeedback(
            summary="Good.",
            strengths=[],
            corrections=[],
            pronunciation_tips=[],
            next_exercise="Again.",
            rubric=None,
        ),
    ),
]


@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=lambda m: m.type)
def test_server_messages_serialise_with_their_type(message: ServerMessage) -> None:
    body = json.loads(message.model_dump_json())
    assert body["type"] == message.type
    assert type(message).model_validate(body) == message


def test_every_server_message_has_its_own_type() -> None:
    kinds = typing.get_args(ServerMessage)
    assert {type(m) for m in SERVER_MESSAGES} == set(kinds)
    assert len({m.type for m in SERVER_MESSAGES}) == len(kinds)


def test_ack_and_final_on_the_wire() -> None:
    ack = json.loads(SERVER_MESSAGES[0].model_dump_json())
    assert ack == {
        "type": "ack",
        "session_id": str(SESSION),
        "resume_token": "tok",
        "limits": LIMITS.model_dump(),
        "resumed": False,
        "received_bytes": 0,
    }
    final = json.loads(SERVER_MESSAGES[4].model_dump_json())
    assert final["words"] == [{"word": "Ask", "start": 0.0, "end": 0.3, "probability": 0.91}]
    assert json.loads(Error(code="x", message="y").model_dump_json())["fatal"] is False
    assert json.loads(Pong().model_dump_json()) == {"type": "pong", "id": None}


def test_close_codes() -> None:
    assert {code.name: int(code) for code in CloseCode} == {
        "NORMAL": 1000,
        "GOING_AWAY": 1001,
        "TRY_AGAIN_LATER": 1013,
        "BAD_MESSAGE": 4400,
        "UNAUTHORIZED": 4401,
        "FORBIDDEN": 4403,
        "NOT_FOUND": 4404,
        "IDLE": 4408,
        "CONFLICT": 4409,
        "TOO_LARGE": 4413,
        "TOO_MANY": 4429,
        "SLOW_CLIENT": 4430,
        "INTERNAL": 4500,
        "SHUTTING_DOWN": 4503,
        "NODE_FULL": 4509,
    }, "docs/protocol.md lists these; update both together"
    docs = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    for code in CloseCode:
        assert f"| {int(code)} | `{code.name}` |" in docs
