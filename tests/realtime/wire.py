"""A blocking websocket client for fuzzing a real server, and the server log's health.

Each `exchange` sends one frame followed by a `ping` with a fresh id, and returns what
came back before that `pong`: the server answers frames in order, so that is exactly the
reply to the frame (plus whatever a live session sent meanwhile).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.realtime.fuzz_messages import sentinel
from tests.realtime.server import Server

REPLY_S = 30.0
# uvicorn's and Parley's own formats both name the level; a traceback has its header line.
_PROBLEM = re.compile(r"Traceback|\bERROR\b|\bCRITICAL\b")


class Wire:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    def send(self, **message: Any) -> None:
        self.ws.send(json.dumps(message))

    def push(self, frame: str | bytes) -> None:
        """Send a frame the server may refuse by closing while it is still arriving."""
        try:
            self.ws.send(frame)
        except ConnectionClosed:
            pass

    def recv(self) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(self.ws.recv(REPLY_S))
        return message

    def exchange(self, frame: str | bytes) -> list[dict[str, Any]]:
        mark = sentinel()
        self.ws.send(frame)
        self.send(type="ping", id=mark)
        replies: list[dict[str, Any]] = []
        while (message := self.recv()) != {"type": "pong", "id": mark}:
            replies.append(message)
        return replies

    def until(self, kind: str) -> dict[str, Any]:
        while (message := self.recv())["type"] != kind:
            pass
        return message

    def closed(self) -> tuple[int | None, list[dict[str, Any]]]:
        """Read until the server closes: its close code and the messages before it."""
        messages: list[dict[str, Any]] = []
        try:
            while True:
                messages.append(self.recv())
        except ConnectionClosed as exc:
            return (exc.rcvd.code if exc.rcvd else None), messages


@contextmanager
def wire(server: Server, path: str, token: str | None) -> Iterator[Wire]:
    query = f"?access_token={token}" if token else ""
    # No compression: frames reach the server at the sizes the test means.
    with connect(f"{server.ws_url}{path}{query}", compression=None, max_size=None) as ws:
        yield Wire(ws)


def log_problems(server: Server, since: int = 0) -> list[str]:
    """Lines of the server's log from byte `since` on that show an error or a traceback."""
    text = server.log.read_bytes()[since:].decode(errors="replace")
    return [line for line in text.splitlines() if _PROBLEM.search(line)]


def assert_up(server: Server) -> None:
    assert server.process.poll() is None, "the server exited"
    assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
