"""What an operator reads in `parley serve`'s log: one JSON object per line, each with the
node, and the request, user and session it belongs to; never a token."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.realtime.client import World, build_world, learner
from tests.realtime.server import running_server

FORGED_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmb3JnZWQifQ.bm90LWEtc2lnbmF0dXJl"
FORGED = {"Authorization": f"Bearer {FORGED_TOKEN}", "X-Request-ID": "forged-1"}
BAD_ID = {"X-Request-ID": "x" * 65}  # longer than any proxy's id: not taken


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_every_line_is_json_with_its_ids_and_no_token(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    with running_server(
        tmp_path, url, PARLEY_SERVER__LOG_LEVEL="info", PARLEY_SERVER__NODE_ID="node-7"
    ) as server:
        world: World = build_world(server)
        token = world.learner()
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "trace-42"}
        async with httpx.AsyncClient(headers=headers) as http:
            me = await http.get(f"{server.url}/v1/users/me")
            # The same connection: the user of the request before is not this one's.
            health = await http.get(f"{server.url}/healthz?token=abc", headers=BAD_ID)
            forged = await http.get(f"{server.url}/v1/users/me", headers=FORGED)
        assert me.headers["X-Request-ID"] == "trace-42"
        made = health.headers["X-Request-ID"]  # a malformed id is replaced, not echoed
        assert re.fullmatch("[0-9a-f]{32}", made)
        assert forged.status_code == 401
        async with learner(server, token) as client:  # the token travels in the query
            await client.send(type="start", exercise_id=world.read_aloud)
            ack = await client.until("ack")
            await client.send(type="cancel")
    log = lines(server.log)  # every line parses, or this fails
    assert log and all(line["node_id"] == "node-7" for line in log)
    access = [line for line in log if line["logger"] == "parley.access"]
    mine = next(line for line in access if line["request_id"] == "trace-42")
    assert (mine["method"], mine["path"], mine["status"]) == ("GET", "/v1/users/me", 200)
    assert mine["user_id"] == me.json()["id"] and mine["duration_ms"] >= 0
    theirs = next(line for line in access if line["request_id"] == made)
    assert (theirs["path"], theirs["status"], theirs["user_id"]) == ("/healthz", 200, None)
    refused = next(line for line in access if line["status"] == 401)
    assert refused["user_id"] is None
    assert not [line for line in log if line["logger"] == "uvicorn.access"]  # Parley's own
    socket = next(line for line in access if line["path"] == "/v1/ws/practice")
    assert socket["session_id"] == ack["session_id"] and socket["user_id"] == me.json()["id"]
    session_lines = [line for line in log if line["session_id"] == ack["session_id"]]
    assert any("started" in line["message"] for line in session_lines)
    # uvicorn's line for the websocket quoted its query: the token was there to redact.
    assert any("access_token=[redacted]" in line["message"] for line in log)
    text = server.log.read_text()
    assert token not in text and FORGED_TOKEN not in text
