"""The practice websocket end to end: real uvicorn server, real model, real speech."""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import re

import httpx
import pytest

from realtime.protocol import CloseCode
from tests.realtime.client import JFK, World, learner, pcm, uninterrupted_final

pytestmark = pytest.mark.slow


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


async def test_full_session_streams_interims_then_a_stored_final(world: World) -> None:
    token = world.learner()
    audio = pcm(JFK)
    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud, audio={"sample_rate": 16000})
        ack = await client.until("ack")
        assert ack["limits"]["max_frame_bytes"] == 65536 and ack["resume_token"]
        await client.stream(audio)
        await client.send(type="stop")
        final = await client.until("final")

    interims = client.of_type("interim_transcript")
    assert len(interims) >= 3, "interim transcripts arrive while the learner speaks"
    committed = [m["committed"] for m in interims]
    for earlier, later in itertools.pairwise(committed):
        assert later.startswith(earlier), "committed text never changes once sent"
    assert client.of_type("audio_received")[-1]["bytes"] == len(audio)
    assert client.of_type("processing"), "processing is announced before the final"

    heard = " ".join(words(final["transcript"]))
    assert "ask not what your country can do for you" in heard
    assert final["words"][0]["start"] >= 0 and final["audio_ms"] == len(audio) // 32
    scores = final["evaluation"]["scores"]
    assert scores["completeness"] >= 90 and scores["overall"] > 50
    assert final["evaluation"]["evaluator"]["name"] == "parley-local"

    headers = {"Authorization": f"Bearer {token}"}
    url = f"{world.server.url}/v1/sessions/{final['session_id']}"
    async with httpx.AsyncClient(headers=headers) as http:
        detail = (await http.get(url)).json()
        wav = await http.get(f"{url}/audio")
    assert detail["status"] == "completed"
    assert detail["transcript"]["text"] == final["transcript"]
    assert detail["evaluation"]["overall"] == scores["overall"]
    assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
    # Each word read comes with its phones, and the stored evaluation keeps them.
    evaluated = final["evaluation"]["words"]
    with_phones = [w for w in evaluated if w["phones"]]
    assert len(with_phones) >= len(evaluated) - 2, evaluated
    assert {"phone", "ipa", "accuracy", "heard_as", "start", "end"} == set(
        with_phones[0]["phones"][0]
    )
    assert detail["evaluation"]["details"]["words"] == evaluated


async def test_json_audio_chunks_and_ping(world: World) -> None:
    audio = pcm(JFK)[: 16000 * 2 * 3]
    async with learner(world.server, world.learner()) as client:
        await client.send(type="ping", id="p1")
        assert (await client.until("pong"))["id"] == "p1"
        await client.send(type="start", exercise_id=world.open_response)
        await client.until("ack")
        for seq, offset in enumerate(range(0, len(audio), 6400)):
            chunk = base64.b64encode(audio[offset : offset + 6400]).decode()
            await client.send(type="audio_chunk", seq=seq, data=chunk)
        await client.send(type="stop")
        final = await client.until("final")
    assert "fellow" in words(final["transcript"]) or "americans" in words(final["transcript"])
    assert final["evaluation"]["kind"] == "open_response"
    assert final["evaluation"]["scores"]["completeness"] is None


@pytest.mark.parametrize("kind", ["silence", "noise", "nothing"])
async def test_stop_is_always_answered(world: World, kind: str) -> None:
    audio = {
        "silence": bytes(16000 * 2 * 2),
        "noise": os.urandom(16000 * 2 * 2),
        "nothing": b"",
    }[kind]
    async with learner(world.server, world.learner()) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        await client.until("ack")
        await client.stream(audio, pace_s=0.0)
        await client.send(type="stop")
        final = await client.until("final", "error")
    assert final["type"] == "final"
    if kind != "noise":
        assert final["transcript"] == ""
        assert final["evaluation"]["scores"]["completeness"] == 0


async def test_bad_messages_get_errors_and_the_session_goes_on(world: World) -> None:
    async with learner(world.server, world.learner()) as client:
        await client.ws.send(b"\x00\x01" * 100)
        assert (await client.until("error"))["code"] == "not_started"
        await client.ws.send("{not json")
        assert (await client.until("error"))["code"] == "bad_message"
        await client.send(type="dance")
        assert (await client.until("error"))["code"] == "unknown_message"
        await client.send(type="start", exercise_id=world.read_aloud, audio={"sample_rate": 96000})
        error = await client.until("error")
        assert error["code"] == "unsupported_audio" and error["fatal"] is False
        await client.send(type="start", exercise_id=str(world.read_aloud)[:-4] + "0000")
        assert (await client.until("error"))["code"] == "exercise_not_found"
        await client.send(type="start", exercise_id=world.read_aloud, audio={"sample_rate": 8000})
        await client.until("ack")
        await client.send(type="audio_chunk", seq=0, data="***")
        assert (await client.until("error"))["code"] == "bad_message"
        # 8 kHz audio is resampled server-side: JFK's first 4 s, decimated.
        audio = pcm(JFK)[: 16000 * 2 * 4]
        eight_khz = b"".join(audio[i : i + 2] for i in range(0, len(audio), 4))
        await client.stream(eight_khz, pace_s=0.0)
        await client.send(type="stop")
        final = await client.until("final")
    assert "americans" in words(final["transcript"]) or "fellow" in words(final["transcript"])


async def test_authentication_is_required(world: World) -> None:
    async with learner(world.server, None) as client:
        assert await client.closed() == CloseCode.UNAUTHORIZED
    async with learner(world.server, "not-a-token") as client:
        assert await client.closed() == CloseCode.UNAUTHORIZED
    token = world.learner()
    async with learner(world.server, None, subprotocols=["parley.v1", f"bearer.{token}"]) as client:
        assert client.ws.subprotocol == "parley.v1"
        await client.send(type="ping")
        await client.until("pong")


async def test_frame_too_large_closes_without_losing_the_session(world: World) -> None:
    token = world.learner()
    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.ws.send(pcm(JFK)[:32000])
        await client.ws.send(bytes(70000))
        error = await client.until("error")
        assert error["code"] == "frame_too_large" and error["fatal"] is True
        assert await client.closed() == CloseCode.TOO_LARGE
    async with learner(world.server, token) as client:
        resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
        await client.send(type="start", resume=resume)
        resumed = await client.until("ack")
        assert resumed["resumed"] is True and resumed["received_bytes"] == 32000
        await client.send(type="cancel")


async def test_audio_limit_finishes_the_session(world: World) -> None:
    async with learner(world.server, world.learner()) as client:
        await client.send(type="start", exercise_id=world.short_limit)
        ack = await client.until("ack")
        assert ack["limits"]["max_audio_ms"] == 2000
        await client.stream(pcm(JFK)[: 16000 * 2 * 3], pace_s=0.0)
        error = await client.until("error")
        assert error["code"] == "audio_limit"
        final = await client.until("final")
    assert final["audio_ms"] == 2000


async def test_sessions_per_user_are_limited(world: World) -> None:
    token = world.learner()
    async with learner(world.server, token) as first, learner(world.server, token) as second:
        for client in (first, second):
            await client.send(type="start", exercise_id=world.read_aloud)
            await client.until("ack")
        async with learner(world.server, token) as third:
            await third.send(type="start", exercise_id=world.read_aloud)
            error = await third.until("error")
            assert error["code"] == "too_many_sessions" and error["fatal"] is True
            assert await third.closed() == CloseCode.TOO_MANY
        for client in (first, second):
            await client.send(type="cancel")


async def test_idle_connection_is_finished_and_closed(world: World) -> None:
    async with learner(world.server, world.learner()) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        await client.until("ack")
        await client.stream(pcm(JFK)[: 16000 * 2 * 2], pace_s=0.0)
        assert (await client.until("error"))["code"] == "idle_timeout"
        await client.until("final")
        assert await client.closed() == CloseCode.IDLE


async def test_resume_after_a_dropped_connection_loses_nothing(world: World) -> None:
    token = world.learner()
    audio = pcm(JFK)
    half = len(audio) // 2 // 3200 * 3200

    uninterrupted = await uninterrupted_final(world.server, token, world.read_aloud, audio)

    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.stream(audio[:half])
        await client.until("audio_received")
    # The connection dropped; the learner comes back on a new one.
    async with learner(world.server, token) as client:
        resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
        await client.send(type="start", resume=resume)
        resumed = await client.until("ack")
        assert resumed["resumed"] is True
        held = resumed["received_bytes"]
        assert 0 < held <= half
        await client.stream(audio[held:])
        await client.send(type="stop")
        final = await client.until("final")
    assert client.of_type("audio_received")[-1]["bytes"] == len(audio)
    assert final["transcript"] == uninterrupted["transcript"]
    assert final["audio_ms"] == uninterrupted["audio_ms"]


async def test_resume_refuses_a_wrong_token(world: World) -> None:
    token = world.learner()
    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        async with learner(world.server, token) as thief:
            resume = {"session_id": ack["session_id"], "token": "guess"}
            await thief.send(type="start", resume=resume)
            assert (await thief.until("error"))["code"] == "bad_resume_token"
        async with learner(world.server, world.learner()) as other:
            resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
            await other.send(type="start", resume=resume)
            assert (await other.until("error"))["code"] == "not_resumable"
        await client.send(type="cancel")
        await asyncio.sleep(0)


async def test_resume_from_a_new_connection_supersedes_the_old_one(world: World) -> None:
    token = world.learner()
    async with learner(world.server, token) as first:
        await first.send(type="start", exercise_id=world.read_aloud)
        ack = await first.until("ack")
        await first.ws.send(pcm(JFK)[:32000])
        await first.send(type="ping")
        await first.until("pong")  # the audio before it has been taken
        async with learner(world.server, token) as second:
            resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
            await second.send(type="start", resume=resume)
            resumed = await second.until("ack")
            assert resumed["received_bytes"] == 32000
            assert await first.closed() == CloseCode.CONFLICT
            await second.send(type="stop")
            final = await second.until("final")
            assert final["audio_ms"] == 1000
            # Audio after stop is refused by the session, not mistaken for "not started".
            await second.ws.send(bytes(3200))
            assert (await second.until("error"))["code"] == "not_streaming"
