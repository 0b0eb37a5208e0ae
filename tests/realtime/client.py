"""A learner's side of the practice websocket, for end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import uuid
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "speech"
JFK = SHARED / "native" / "jfk.wav"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
CHUNK_BYTES = 3200  # 100 ms at 16 kHz, 16-bit mono


def pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == 16000 and wav.getsampwidth() == 2
        return wav.readframes(wav.getnframes())


@dataclass
class World:
    server: Server
    read_aloud: str
    short_limit: str
    open_response: str

    def learner(self) -> str:
        email = f"learner-{uuid.uuid4().hex[:8]}@example.org"
        body = {"email": email, "password": "learner password", "display_name": "Lee"}
        response = httpx.post(f"{self.server.url}/v1/auth/register", json=body)
        response.raise_for_status()
        token: str = response.json()["tokens"]["access_token"]
        return token


def build_world(server: Server) -> World:
    login = httpx.post(
        f"{server.url}/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    course = httpx.post(
        f"{server.url}/v1/courses",
        json={"title": "Speeches", "status": "published"},
        headers=headers,
    ).json()

    def exercise(**body: Any) -> str:
        response = httpx.post(
            f"{server.url}/v1/courses/{course['id']}/exercises", json=body, headers=headers
        )
        response.raise_for_status()
        exercise_id: str = response.json()["id"]
        return exercise_id

    return World(
        server=server,
        read_aloud=exercise(kind="read_aloud", title="JFK", reference_text=JFK_TEXT),
        short_limit=exercise(
            kind="read_aloud", title="Short", reference_text=JFK_TEXT, time_limit_s=2
        ),
        open_response=exercise(
            kind="open_response", title="Talk", prompt="Say something about your country."
        ),
    )


class Learner:
    """Reads every server message in the background (as a real client must, or the server
    would cut it off as too slow) and lets the test wait for the ones it expects."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                message: dict[str, Any] = json.loads(raw)
                self.messages.append(message)
                self._inbox.put_nowait(message)
        except ConnectionClosed:
            pass
        finally:
            self._inbox.put_nowait(None)

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message, default=str))

    async def until(self, *types: str, limit_s: float = 60.0) -> dict[str, Any]:
        """Wait for the next message of one of `types`; fails if the connection closes."""
        async with asyncio.timeout(limit_s):
            while True:
                message = await self._inbox.get()
                if message is None:
                    raise AssertionError(f"closed before {types}: {self.ws.close_code}")
                if message["type"] in types:
                    return message

    async def closed(self, limit_s: float = 30.0) -> int | None:
        """Wait for the server to close; returns the close code."""
        async with asyncio.timeout(limit_s):
            await self._reader
        return self.ws.close_code

    async def stream(self, audio: bytes, *, pace_s: float = 0.025) -> None:
        """Send audio in 100 ms frames, paced (4x real time by default) like a microphone."""
        for offset in range(0, len(audio), CHUNK_BYTES):
            await self.ws.send(audio[offset : offset + CHUNK_BYTES])
            await asyncio.sleep(pace_s)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    async def aclose(self) -> None:
        await self.ws.close()
        await self._reader


@asynccontextmanager
async def learner(server: Server, token: str | None, **kwargs: Any) -> AsyncIterator[Learner]:
    query = f"?access_token={token}" if token else ""
    async with connect(f"{server.ws_url}/v1/ws/practice{query}", **kwargs) as ws:
        client = Learner(ws)
        try:
            yield client
        finally:
            await client.aclose()


async def uninterrupted_final(
    server: Server, token: str, exercise_id: str, audio: bytes
) -> dict[str, Any]:
    """The `final` of one session that streams `audio` with no drop: what a resumed
    session must equal."""
    async with learner(server, token) as client:
        await client.send(type="start", exercise_id=exercise_id)
        await client.until("ack")
        await client.stream(audio)
        await client.send(type="stop")
        return await client.until("final")
