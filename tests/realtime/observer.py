"""An observer's side of `/v1/ws/observe`, and the people of a course, for end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.realtime.client import JFK_TEXT
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server


class Observer:
    """Reads every message in the background; the test waits for the ones it expects."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.closed = False

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                async with self._arrived:
                    self.messages.append(json.loads(raw))
                    self._arrived.notify_all()
        except ConnectionClosed:
            pass
        finally:
            async with self._arrived:
                self.closed = True
                self._arrived.notify_all()

    async def send(self, **message: Any) -> None:
        await self.ws.send(json.dumps(message))

    async def subscribe(self, kind: str, id_: str = "*", **position: Any) -> dict[str, Any]:
        """Subscribe; returns the answer (`subscribed`, `reload` or `error`)."""
        seen = len(self.messages)
        await self.send(type="subscribe", channel={"kind": kind, "id": id_}, **position)
        return await self.wait(lambda m: m["type"] in ("subscribed", "reload", "error"), after=seen)

    async def wait(self, match: Any, *, after: int = 0, limit_s: float = 60.0) -> dict[str, Any]:
        async with asyncio.timeout(limit_s), self._arrived:
            while True:
                for message in self.messages[after:]:
                    if match(message):
                        return message
                if self.closed:
                    raise AssertionError(f"closed ({self.ws.close_code}) before the message")
                await self._arrived.wait()

    async def event(self, kind: str, channel: str | None = None) -> dict[str, Any]:
        """The first event carrying a learner message of type `kind`."""
        return await self.wait(
            lambda m: (
                m["type"] == "event"
                and m["event"]["message"]["type"] == kind
                and (channel is None or m["channel"] == channel)
            )
        )

    def events(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            m
            for m in self.messages
            if m["type"] == "event" and (channel is None or m["channel"] == channel)
        ]

    async def aclose(self) -> None:
        await self.ws.close()
        await self._reader


@asynccontextmanager
async def observer(server: Server, token: str, **kwargs: Any) -> AsyncIterator[Observer]:
    ws_url = server.url.replace("http://", "ws://")
    async with connect(f"{ws_url}/v1/ws/observe?access_token={token}", **kwargs) as ws:
        client = Observer(ws)
        try:
            yield client
        finally:
            await client.aclose()


@dataclass
class Person:
    id: str
    token: str


@dataclass
class School:
    """A course with a tutor and an enrolled learner, made through the REST API."""

    server: Server
    admin: Person
    course: str
    exercise: str
    tutor: Person
    learner: Person

    def person(self, role: str) -> Person:
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.org"
        body = {"email": email, "password": "a fine password", "display_name": role.title()}
        headers = {"Authorization": f"Bearer {self.admin.token}"}
        created = httpx.post(
            f"{self.server.url}/v1/users", json={**body, "role": role}, headers=headers
        )
        created.raise_for_status()
        login = httpx.post(
            f"{self.server.url}/v1/auth/login",
            json={"email": email, "password": body["password"]},
        )
        login.raise_for_status()
        return Person(created.json()["id"], login.json()["access_token"])

    def another_course(self) -> tuple[str, str]:
        """A published course (no tutor) with a read-aloud exercise: (course, exercise)."""
        headers = {"Authorization": f"Bearer {self.admin.token}"}
        course = httpx.post(
            f"{self.server.url}/v1/courses",
            json={"title": "Elsewhere", "status": "published"},
            headers=headers,
        ).json()["id"]
        exercise = httpx.post(
            f"{self.server.url}/v1/courses/{course}/exercises",
            json={"kind": "read_aloud", "title": "Other", "reference_text": JFK_TEXT},
            headers=headers,
        ).json()["id"]
        return course, exercise

    def enrol(self, person: Person, as_role: str, course: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {self.admin.token}"}
        where = f"{self.server.url}/v1/courses/{course or self.course}/{as_role}s"
        httpx.post(where, json={"user_id": person.id}, headers=headers).raise_for_status()


def build_school(server: Server) -> School:
    login = httpx.post(
        f"{server.url}/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    login.raise_for_status()
    me = httpx.get(
        f"{server.url}/v1/users/me",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    ).json()
    admin = Person(me["id"], login.json()["access_token"])
    headers = {"Authorization": f"Bearer {admin.token}"}
    course = httpx.post(
        f"{server.url}/v1/courses",
        json={"title": "Speeches", "status": "published"},
        headers=headers,
    ).json()["id"]
    exercise = httpx.post(
        f"{server.url}/v1/courses/{course}/exercises",
        json={"kind": "read_aloud", "title": "JFK", "reference_text": JFK_TEXT},
        headers=headers,
    ).json()["id"]
    school = School(server, admin, course, exercise, admin, admin)
    school.tutor = school.person("tutor")
    school.enrol(school.tutor, "tutor")
    school.learner = school.person("learner")
    school.enrol(school.learner, "learner")
    return school
