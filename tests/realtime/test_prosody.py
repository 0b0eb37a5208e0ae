"""Prosody, the trained scorer's fourth score: from a real reading to the `final` and to the
stored session detail, on SQLite and PostgreSQL (real server, real model, real speech)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.realtime.client import JFK, World, build_world, learner, pcm
from tests.realtime.server import running_server

pytestmark = pytest.mark.slow


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    with running_server(tmp_path, db_url) as server:
        yield build_world(server)


async def session(world: World, token: str, exercise_id: str) -> dict[str, Any]:
    """The `final` of one session that streams JFK's reading."""
    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=exercise_id, audio={"sample_rate": 16000})
        await client.until("ack")
        await client.stream(pcm(JFK))
        await client.send(type="stop")
        return await client.until("final")


async def detail(world: World, token: str, session_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(headers=headers) as http:
        got = await http.get(f"{world.server.url}/v1/sessions/{session_id}")
    assert got.status_code == 200, got.text
    evaluation: dict[str, Any] = got.json()["evaluation"]
    return evaluation


async def test_a_reading_has_prosody_in_its_final_and_its_stored_detail(world: World) -> None:
    token = world.learner()
    final = await session(world, token, world.read_aloud)
    evaluation = final["evaluation"]
    assert "+ridge" in evaluation["evaluator"]["version"], "scored by the trained scorer"
    scores = evaluation["scores"]
    assert isinstance(scores["prosody"], int) and 0 <= scores["prosody"] <= 100, scores
    # A clear native reading, as its accuracy and fluency are.
    assert scores["prosody"] >= 60, scores

    stored = await detail(world, token, final["session_id"])
    assert stored["prosody"] == scores["prosody"]
    assert stored["details"]["scores"] == scores
    assert stored["overall"] == scores["overall"]

    # The same words as an open response: no reference, so no trained scores, no prosody.
    final = await session(world, token, world.open_response)
    scores = final["evaluation"]["scores"]
    assert scores["prosody"] is None and scores["overall"] > 0, scores
    stored = await detail(world, token, final["session_id"])
    assert stored["prosody"] is None and stored["details"]["scores"]["prosody"] is None
