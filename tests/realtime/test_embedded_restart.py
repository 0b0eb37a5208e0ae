"""Without Redis, a node killed mid-session does not leave the session "active" in history:
the restarted node fails it at once (not a session lifetime later)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.realtime.client import JFK, World, build_world, learner, pcm
from tests.realtime.server import running_server

pytestmark = pytest.mark.slow


async def test_a_killed_node_s_session_is_failed_when_it_restarts(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    with running_server(tmp_path, url) as first:
        world: World = build_world(first)
        token = world.learner()
        async with learner(first, token) as client:
            await client.send(type="start", exercise_id=world.read_aloud)
            ack = await client.until("ack")
            await client.stream(pcm(JFK)[: 3200 * 20])
            first.process.kill()  # SIGKILL: nothing is recorded on the way out
            first.process.wait()
    headers = {"Authorization": f"Bearer {token}"}
    with running_server(tmp_path, url, first=False) as second:
        async with httpx.AsyncClient(headers=headers) as http:
            detail = await http.get(f"{second.url}/v1/sessions/{ack['session_id']}")
    assert detail.status_code == 200
    assert detail.json()["status"] == "failed"
