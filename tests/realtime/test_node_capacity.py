"""A node capped at its session capacity refuses new sessions and says so to its load
balancer, while the sessions it holds go on (real `parley serve`, real websocket clients)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from realtime.protocol import CloseCode
from tests.realtime.client import JFK, World, build_world, learner, pcm
from tests.realtime.server import sqlite_server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with sqlite_server(
        tmp_path_factory.mktemp("server"), PARLEY_REALTIME__MAX_SESSIONS_PER_NODE="1"
    ) as server:
        yield build_world(server)


def readiness(world: World) -> tuple[int, dict[str, str]]:
    response = httpx.get(f"{world.server.url}/readyz")
    return response.status_code, response.json()["checks"]


async def test_a_full_node_refuses_new_sessions_and_keeps_its_own(world: World) -> None:
    assert readiness(world) == (200, {"database": "ok", "capacity": "ok"})
    async with learner(world.server, world.learner()) as first:
        await first.send(type="start", exercise_id=world.read_aloud)
        ack = await first.until("ack")
        status, checks = readiness(world)
        assert status == 503 and checks["capacity"].startswith("error")

        async with learner(world.server, world.learner()) as second:
            await second.send(type="start", exercise_id=world.read_aloud)
            error = await second.until("error")
            assert error["code"] == "node_full" and error["fatal"] is True
            assert await second.closed() == CloseCode.NODE_FULL

        # The session the node holds is untouched: it streams, stops and gets its final.
        await first.stream(pcm(JFK), pace_s=0.0)
        await first.send(type="stop")
        final = await first.until("final")
        assert final["session_id"] == ack["session_id"]
        assert "country" in final["transcript"].lower()

    # Its session done, the node takes the next learner.
    assert readiness(world)[0] == 200
    async with learner(world.server, world.learner()) as third:
        await third.send(type="start", exercise_id=world.read_aloud)
        await third.until("ack")
        await third.send(type="cancel")


async def test_a_node_busy_by_measure_refuses_newcomers(tmp_path: Path) -> None:
    # A limit any real pass exceeds: the node counts as busy once it has lags to judge.
    with sqlite_server(tmp_path, PARLEY_REALTIME__ADMISSION_LAG_MS="1") as server:
        busy = build_world(server)
        async with learner(server, busy.learner()) as first:
            await first.send(type="start", exercise_id=busy.read_aloud)
            await first.until("ack")
            await first.stream(pcm(JFK)[: 16000 * 2 * 6], pace_s=0.1)  # 6 s at real time
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{server.url}/readyz")).status_code == 503
            async with learner(server, busy.learner()) as second:
                await second.send(type="start", exercise_id=busy.read_aloud)
                error = await second.until("error")
                assert error["code"] == "node_full"
                assert await second.closed() == CloseCode.NODE_FULL
            await first.send(type="stop")
            assert "fellow americans" in (await first.until("final"))["transcript"].lower()
