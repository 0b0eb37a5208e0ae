"""The people of the topology test, as clients of the load balancer: a school made over REST,
learners who resume their session after losing its node (protocol.md §6), and tutors who
reconnect to the course channel from their last offset (observer protocol §5)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from deploy.topology import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.realtime.client import CHUNK_BYTES, JFK_TEXT, Learner
from tests.realtime.observer import Observer

Event = dict[str, Any]


def ws(url: str) -> str:
    return url.replace("http://", "ws://")


async def reach(url: str) -> ClientConnection:
    """A websocket through the load balancer, retried as a client does while nginx finds
    out which node is gone."""
    async with asyncio.timeout(20):
        while True:
            try:
                return await connect(url)
            except (OSError, InvalidHandshake):
                await asyncio.sleep(0.2)


@dataclass
class School:
    """A published course with a read-aloud exercise and its tutor, made by the admin."""

    lb: str
    admin: str = ""
    course: str = ""
    exercise: str = ""
    tutor: str = ""

    def __post_init__(self) -> None:
        login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        self.admin = httpx.post(f"{self.lb}/v1/auth/login", json=login).json()["access_token"]
        course = {"title": "Speeches", "status": "published"}
        self.course = self.post("/v1/courses", course)["id"]
        exercise = {"kind": "read_aloud", "title": "JFK", "reference_text": JFK_TEXT}
        self.exercise = self.post(f"/v1/courses/{self.course}/exercises", exercise)["id"]
        self.tutor = self.person("tutor", enrol_as="tutor")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin}"}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = httpx.post(f"{self.lb}{path}", json=body, headers=self.headers)
        answer.raise_for_status()
        created: dict[str, Any] = answer.json()
        return created

    def person(self, role: str, enrol_as: str | None = None) -> str:
        """A new account (registration is closed, as in compose.yaml); its access token."""
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        body = {"email": email, "password": "a fine password", "display_name": role.title()}
        user = self.post("/v1/users", {**body, "role": role})
        if enrol_as:
            self.post(f"/v1/courses/{self.course}/{enrol_as}s", {"user_id": user["id"]})
        login = httpx.post(
            f"{self.lb}/v1/auth/login", json={"email": email, "password": body["password"]}
        )
        login.raise_for_status()
        token: str = login.json()["access_token"]
        return token


@dataclass
class Practice:
    final: Event
    acknowledged: int  # the last `audio_received.bytes`
    resumes_s: list[float] = field(default_factory=list)  # connection lost -> resumed ack
    refused: list[str] = field(default_factory=list)  # `session_busy`, `node_full` answers


async def practise(url: str, token: str, exercise: str, audio: bytes) -> Practice:
    """Stream `audio` at real-time pace through `url`; on a dropped connection reconnect
    and resume from the offset the server holds (`ack.received_bytes`). A node that is
    busy with the session or full is asked again, as protocol.md §6 and §7 tell clients."""
    resume: dict[str, str] | None = None
    resumes: list[float] = []
    refused: list[str] = []
    dropped_at = 0.0
    while True:
        socket = await reach(f"{ws(url)}/v1/ws/practice?access_token={token}")
        client = Learner(socket)
        try:
            if resume is None:
                await client.send(type="start", exercise_id=exercise)
            else:
                await client.send(type="start", resume=resume)
            answer = await client.until("ack", "error")
            if answer["type"] == "error":
                # session_busy: the dead node's lease; node_full: a node behind on its
                # sessions' audio turns newcomers away until it catches up.
                assert answer["code"] in ("session_busy", "node_full"), answer
                refused.append(answer["code"])
                await asyncio.sleep(0.5 if answer["code"] == "session_busy" else 1.0)
                continue
            if resume is not None:
                resumes.append(time.monotonic() - dropped_at)
            resume = {"session_id": answer["session_id"], "token": answer["resume_token"]}
            sent = answer["received_bytes"]
            while sent < len(audio):
                await socket.send(audio[sent : sent + CHUNK_BYTES])
                sent += CHUNK_BYTES
                await asyncio.sleep(CHUNK_BYTES / 32000)  # 16 kHz, 16-bit: real time
            await client.send(type="stop")
            final = await client.until("final")
            acknowledged = client.of_type("audio_received")[-1]["bytes"]
            return Practice(final, acknowledged, resumes, refused)
        except (ConnectionClosed, AssertionError) as exc:
            if isinstance(exc, AssertionError) and "closed before" not in str(exc):
                raise
            dropped_at = time.monotonic()
        finally:
            await client.aclose()


@dataclass
class Following:
    events: list[Event] = field(default_factory=list)  # every event, across connections
    first: int = 0  # the offset of the first subscription
    reconnects: int = 0
    reloads: list[str] = field(default_factory=list)


async def follow(
    urls: list[str], token: str, course: str, done: Callable[[list[Event]], bool]
) -> Following:
    """Watch the course until `done(events)`: on the first of `urls`, and after a lost
    connection on the next one (the last is kept), subscribing again from the last offset."""
    seen = Following()
    position: dict[str, Any] = {}
    while True:
        url = urls[min(seen.reconnects, len(urls) - 1)]
        socket = await reach(f"{ws(url)}/v1/ws/observe?access_token={token}")
        observer = Observer(socket)
        try:
            answer = await observer.subscribe("course", course, **position)
            assert answer["type"] == "subscribed", answer
            if not position:
                seen.first = answer["offset"]
            position = {"offset": answer["offset"], "epoch": answer["epoch"]}
            await observer.wait(
                lambda m, now=observer: m["type"] == "event" and done(seen.events + now.events())
            )
            seen.events += observer.events()
            return seen
        except AssertionError as exc:
            if "closed" not in str(exc):
                raise
            seen.events += observer.events()
            if seen.events:
                position = {"offset": seen.events[-1]["offset"], "epoch": seen.events[-1]["epoch"]}
            seen.reconnects += 1
        finally:
            await observer.aclose()


def finals(events: list[Event]) -> set[str]:
    """The sessions whose `final` is among `events`."""
    return {e["event"]["session_id"] for e in events if e["event"]["message"]["type"] == "final"}
