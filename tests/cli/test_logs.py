"""What an operator reads in `parley serve`'s log: one JSON object per line, each with the
node, and the request, user and session it belongs to; never a token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.realtime.client import World, build_world, learner
from tests.realtime.server import running_server


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
        assert me.headers["X-Request-ID"] == "trace-42"
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
    socket = next(line for line in access if line["path"] == "/v1/ws/practice")
    assert socket["session_id"] == ack["session_id"] and socket["user_id"] == me.json()["id"]
    session_lines = [line for line in log if line["session_id"] == ack["session_id"]]
    assert any("started" in line["message"] for line in session_lines)
    assert token not in server.log.read_text()
