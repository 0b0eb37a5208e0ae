"""PostgreSQL goes away mid-session: `/readyz` says so, REST answers 503 with Retry-After, a
learner already streaming keeps streaming and gets the final, and the result is stored
when the database is back; a new connection is told to retry later."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.realtime.client import JFK, build_world, learner, pcm
from tests.realtime.db_proxy import database_proxy
from tests.realtime.server import running_server

pytestmark = pytest.mark.slow


async def eventually_completed(
    http: httpx.AsyncClient, url: str, limit_s: float = 30
) -> dict[str, Any]:
    async with asyncio.timeout(limit_s):
        while True:
            answer = await http.get(url)
            if answer.status_code == 200 and answer.json()["status"] == "completed":
                return dict(answer.json())
            await asyncio.sleep(0.5)


async def test_a_database_outage_loses_no_result(tmp_path: Path, postgres_url: str) -> None:
    target = make_url(postgres_url)
    with database_proxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        with running_server(tmp_path, url) as server:
            world = build_world(server)
            token, newcomer = world.learner(), world.learner()
            audio = pcm(JFK)
            half = len(audio) // 2 // 3200 * 3200
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(headers=headers) as http, learner(server, token) as client:
                await client.send(type="start", exercise_id=world.read_aloud)
                ack = await client.until("ack")
                await client.stream(audio[:half])

                proxy.cut()
                ready = await http.get(f"{server.url}/readyz")
                assert ready.status_code == 503
                assert ready.json()["checks"]["database"].startswith("error")
                listed = await http.get(f"{server.url}/v1/sessions")
                assert listed.status_code == 503
                assert listed.headers["Retry-After"] == "5"
                assert listed.json()["error"]["code"] == "database_unavailable"
                # Someone connecting now (no account check cached) is told to retry later.
                async with learner(server, newcomer) as late:
                    assert await late.closed() == 1013

                await client.stream(audio[half:])  # the session streams on
                await client.send(type="stop")
                final = await client.until("final")
                notice = await client.until("error")
                assert notice["code"] == "saved_later"
                assert client.of_type("audio_received")[-1]["bytes"] == len(audio)
                assert "ask not what your country can do for you" in final["transcript"].lower()

                proxy.restore()
                detail_url = f"{server.url}/v1/sessions/{ack['session_id']}"
                stored = await eventually_completed(http, detail_url)
                assert stored["transcript"]["text"] == final["transcript"]
                recording = await http.get(f"{detail_url}/audio")
                assert recording.status_code == 200 and len(recording.content) > len(audio)
                assert (await http.get(f"{server.url}/readyz")).status_code == 200
        log = server.log.read_text()
        assert "Traceback" not in log
