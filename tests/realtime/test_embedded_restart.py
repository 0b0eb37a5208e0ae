"""Without Redis, a node killed mid-session loses nothing it acknowledged: after the restart
the session shows as resumable (never as in progress), its learner continues it with every
acknowledged byte, and one nobody resumes is failed after the grace period with its audio
kept."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.client import JFK, World, build_world, learner, pcm, uninterrupted_final
from tests.realtime.server import Server, running_server

pytestmark = pytest.mark.slow

# Long enough for the second node to come and go, and for the resumed session to start on the
# third, on a loaded CI machine: the grace runs from each node's start.
GRACE_S = "10"


async def killed_mid_session(server: Server, token: str, world: World, audio: bytes) -> Any:
    """Start a session, stream `audio`, wait for its acknowledgement, SIGKILL the server."""
    async with learner(server, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.stream(audio)
        while (await client.until("audio_received"))["bytes"] < len(audio):
            pass
        server.process.kill()  # SIGKILL: nothing is recorded on the way out
        server.process.wait()
        await client.closed()
    return ack


async def status_of(http: httpx.AsyncClient, server: Server, session_id: str) -> Any:
    answer = await http.get(f"{server.url}/v1/sessions/{session_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_killed_node_s_sessions_resume_after_the_restart(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    audio = pcm(JFK)
    cut = len(audio) * 3 // 5 // 3200 * 3200  # mid-utterance
    with running_server(tmp_path, url, PARLEY_REALTIME__RESUME_GRACE_S=GRACE_S) as first:
        world: World = build_world(first)
        token, other = world.learner(), world.learner()
        uninterrupted = await uninterrupted_final(first, token, world.read_aloud, audio)
        resumed_ack = await killed_mid_session(first, token, world, audio[:cut])
    with running_server(
        tmp_path, url, first=False, PARLEY_REALTIME__RESUME_GRACE_S=GRACE_S
    ) as second:
        # A second learner's session dies the same way and is never resumed.
        abandoned_ack = await killed_mid_session(second, other, world, audio[:64000])
    headers = {"Authorization": f"Bearer {token}"}
    other_headers = {"Authorization": f"Bearer {other}"}
    with running_server(
        tmp_path, url, first=False, PARLEY_REALTIME__RESUME_GRACE_S=GRACE_S
    ) as third:
        started = time.monotonic()
        async with httpx.AsyncClient(headers=headers) as http:
            before = await status_of(http, third, resumed_ack["session_id"])
        assert before["status"] == "resumable"  # not "active": nothing runs it now
        async with httpx.AsyncClient(headers=other_headers) as http:
            abandoned = await status_of(http, third, abandoned_ack["session_id"])
        assert abandoned["status"] == "resumable"

        async with learner(third, token) as client:
            resume = {"session_id": resumed_ack["session_id"], "token": resumed_ack["resume_token"]}
            await client.send(type="start", resume=resume)
            answer = await client.until("ack")
            assert answer["resumed"] is True
            assert answer["received_bytes"] == cut  # every acknowledged byte survived
            await client.stream(audio[cut:])
            await client.send(type="stop")
            final = await client.until("final")
        assert final["transcript"] == uninterrupted["transcript"]
        assert final["audio_ms"] == uninterrupted["audio_ms"]

        async with httpx.AsyncClient(headers=other_headers) as http:
            session_id = abandoned_ack["session_id"]
            await asyncio.sleep(max(0.0, float(GRACE_S) + 2 - (time.monotonic() - started)))
            detail = await status_of(http, third, session_id)
            assert detail["status"] == "failed"
            recording = await http.get(f"{third.url}/v1/sessions/{session_id}/audio")
        assert recording.status_code == 200
        with wave.open(io.BytesIO(recording.content)) as wav:
            assert wav.getnframes() == 64000 // 2  # the acknowledged 2 s, at 16 kHz
        assert not list((tmp_path / "live-sessions").glob("*.pcm"))  # nothing left behind
