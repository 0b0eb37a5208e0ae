"""Redis going away mid-session: two real nodes on a private Redis the test stops and restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.realtime.client import JFK, learner, pcm
from tests.realtime.cluster import Cluster, cluster, eventually
from tests.realtime.observer import observer
from tests.realtime.redis_server import PrivateRedis, private_redis

pytestmark = pytest.mark.slow


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@pytest.fixture
def nodes(redis: PrivateRedis, postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path, postgres_url, redis.url, PARLEY_HUB__RECONNECT_MAX_S="0.5") as made:
        yield made


async def readiness(url: str) -> tuple[int, dict[str, str]]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/readyz")
    checks: dict[str, str] = response.json()["checks"]
    return response.status_code, checks


async def test_sessions_survive_a_redis_outage_and_delivery_resumes(
    nodes: Cluster, redis: PrivateRedis
) -> None:
    school, audio = nodes.school, pcm(JFK)
    half = len(audio) // 2 // 3200 * 3200
    async with (
        observer(nodes.b, school.tutor.token) as remote,
        observer(nodes.a, school.tutor.token) as local,
    ):
        for watcher in (remote, local):
            assert (await watcher.subscribe("course", school.course))["type"] == "subscribed"
        async with learner(nodes.a, school.learner.token) as client:
            await client.send(type="start", exercise_id=school.exercise)
            await client.until("ack")
            await client.stream(audio[:half])
            await remote.event("interim_transcript")

            redis.stop()

            async def a_reports_it() -> bool:
                status, checks = await readiness(nodes.a.url)
                return status == 503 and checks["hub"].startswith("error")

            await eventually(a_reports_it)
            seen = len(local.events())
            await client.stream(audio[half:])
            await client.send(type="stop")
            final = await client.until("final")
            assert final["audio_ms"] == len(audio) // 32
            # This node's observers still follow, unnumbered: nothing of it is kept.
            await local.event("final")
            during = local.events()[seen:]
            assert during and all(e["offset"] is None and e["epoch"] is None for e in during)

        redis.start()

        async def ready_again() -> bool:
            return all([(await readiness(n.url))[0] == 200 for n in (nodes.a, nodes.b)])

        await eventually(ready_again, 20)
        # Redis restarted empty: the remote observer's history is gone, and it is told so.
        reload = await remote.wait(lambda m: m["type"] == "reload")
        assert reload["reason"] == "epoch_changed"
        assert (await remote.subscribe("course", school.course))["type"] == "subscribed"
        async with learner(nodes.a, school.learner.token) as client:
            await client.send(type="start", exercise_id=school.exercise)
            ack = await client.until("ack")
            await client.stream(audio[: 32000 * 3])
            await client.send(type="stop")
            await client.until("final")
        event = await remote.event("final")
        assert event["event"]["session_id"] == ack["session_id"] and event["offset"] is not None
        await asyncio.wait_for(remote.event("session_ended"), 30)
