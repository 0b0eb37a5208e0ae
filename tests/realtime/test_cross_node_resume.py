"""Cross-node resume with real processes: two `parley serve` nodes sharing Redis and
PostgreSQL, the real model on real speech. Node A is SIGKILLed mid-utterance, or only the
learner's connection to it drops; the learner finishes on node B with the final an
uninterrupted run gives.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import create_async_engine

from storage.models import PracticeSession
from storage.redis_keys import Keys
from tests.realtime.client import JFK, World, build_world, learner, pcm, uninterrupted_final
from tests.realtime.cluster import eventually
from tests.realtime.redis_server import PrivateRedis
from tests.realtime.server import Server, running_server
from tests.services import REDIS_URL, require

LEASE_TTL_S = 2.0


@dataclass
class Cluster:
    a: Server
    b: Server
    world: World
    prefix: str = "parley"


@pytest.fixture
def cluster(postgres_url: str, tmp_path: Path) -> Iterator[Cluster]:
    require("Redis", REDIS_URL)
    prefix = f"parley-test-{uuid.uuid4().hex[:10]}"

    @contextmanager
    def node(name: str, *, first: bool) -> Iterator[Server]:
        (tmp_path / name).mkdir()
        with running_server(
            tmp_path / name,
            postgres_url,
            first=first,
            PARLEY_SERVER__NODE_ID=f"node-{name}",
            PARLEY_REDIS__URL=REDIS_URL,
            PARLEY_REDIS__KEY_PREFIX=prefix,
            PARLEY_REALTIME__LEASE_TTL_S=str(LEASE_TTL_S),
            PARLEY_REALTIME__RESUME_GRACE_S="30",
            PARLEY_REALTIME__IDLE_TIMEOUT_S="20",
        ) as server:
            yield server

    with node("a", first=True) as a, node("b", first=False) as b:
        yield Cluster(a, b, build_world(a), prefix)


async def test_a_killed_nodes_session_finishes_on_another_node(
    cluster: Cluster, postgres_url: str
) -> None:
    world, token, audio = cluster.world, cluster.world.learner(), pcm(JFK)

    uninterrupted = await uninterrupted_final(cluster.b, token, world.read_aloud, audio)

    cut = len(audio) * 3 // 5 // 3200 * 3200  # mid-utterance: "... ask not what your cou|"
    async with learner(cluster.a, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.stream(audio[:cut])
        while (await client.until("audio_received"))["bytes"] < cut // 2:
            pass
        cluster.a.process.kill()  # SIGKILL: no shutdown, the lease lives on its TTL
        cluster.a.process.wait()
        await client.closed()
    acknowledged = client.of_type("audio_received")[-1]["bytes"]

    # The lease of the dead node is still alive for a moment: node B refuses, then takes it.
    refused = 0
    async with asyncio.timeout(LEASE_TTL_S * 5):
        while True:
            async with learner(cluster.b, token) as client:
                resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
                await client.send(type="start", resume=resume)
                answer = await client.until("ack", "error")
                if answer["type"] == "error":
                    assert answer["code"] == "session_busy", answer
                    refused += 1
                    await asyncio.sleep(0.3)  # the client's retry pause
                    continue
                assert answer["resumed"] is True and answer["session_id"] == ack["session_id"]
                held = answer["received_bytes"]
                assert acknowledged <= held <= cut
                await client.stream(audio[held:])
                await client.send(type="stop")
                final = await client.until("final")
                break
    assert refused >= 1
    assert client.of_type("audio_received")[-1]["bytes"] == len(audio)
    assert final["transcript"] == uninterrupted["transcript"]
    assert final["audio_ms"] == uninterrupted["audio_ms"]
    assert final["words"] == uninterrupted["words"]

    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as db:
            row = (
                await db.execute(
                    select(PracticeSession).where(
                        PracticeSession.id == uuid.UUID(ack["session_id"])
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    assert row.status == "completed" and row.node_id == "node-b"
    assert row.failure_reason is None
    assert row.audio_duration_ms == uninterrupted["audio_ms"]


async def completed_row(postgres_url: str, session_id: str) -> Row[Any]:
    """The session's history row (read as columns: no ORM session)."""
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as db:
            query = select(PracticeSession).where(PracticeSession.id == uuid.UUID(session_id))
            return (await db.execute(query)).one()
    finally:
        await engine.dispose()


async def until_listed(cluster: Cluster, node: str, session_id: str, *, live: bool) -> None:
    """Wait until `node`'s presence (the tutors' live view) lists the session, or not."""
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    key = Keys(cluster.prefix).hub_presence(node)

    async def shown() -> bool:
        return bool(await client.hexists(key, session_id)) is live

    try:
        await eventually(shown)
    finally:
        await client.aclose()


async def test_a_dropped_connection_resumes_at_once_on_another_live_node(
    cluster: Cluster, postgres_url: str
) -> None:
    world, token, audio = cluster.world, cluster.world.learner(), pcm(JFK)
    uninterrupted = await uninterrupted_final(cluster.b, token, world.read_aloud, audio)

    cut = len(audio) * 3 // 5 // 3200 * 3200
    async with learner(cluster.a, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.stream(audio[:cut])
        while (await client.until("audio_received"))["bytes"] < cut // 2:
            pass
        await until_listed(cluster, "node-a", ack["session_id"], live=True)
    # The connection dropped; node A lives on. The load balancer sends the learner to B.
    acknowledged = client.of_type("audio_received")[-1]["bytes"]
    assert cluster.a.process.poll() is None
    async with learner(cluster.b, token) as client:
        resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
        await client.send(type="start", resume=resume)
        answer = await client.until("ack", "error")
        assert answer["type"] == "ack", answer  # at once: no session_busy, no retry
        assert answer["resumed"] is True and answer["session_id"] == ack["session_id"]
        held = answer["received_bytes"]
        assert acknowledged <= held <= cut
        await client.stream(audio[held:])
        await client.send(type="stop")
        final = await client.until("final")
    assert client.of_type("audio_received")[-1]["bytes"] == len(audio)
    assert final["transcript"] == uninterrupted["transcript"]
    assert final["audio_ms"] == uninterrupted["audio_ms"]
    assert final["words"] == uninterrupted["words"]

    row = await completed_row(postgres_url, ack["session_id"])
    assert row.status == "completed" and row.node_id == "node-b"
    assert row.failure_reason is None
    assert row.audio_duration_ms == uninterrupted["audio_ms"]
    assert cluster.a.process.poll() is None
    # Node A no longer lists the session as live there (tutors' live view).
    await until_listed(cluster, "node-a", ack["session_id"], live=False)


async def test_a_resume_elsewhere_moves_the_session_from_a_live_connection(
    cluster: Cluster, postgres_url: str
) -> None:
    world, token, audio = cluster.world, cluster.world.learner(), pcm(JFK)
    async with learner(cluster.a, token) as owner:
        await owner.send(type="start", exercise_id=world.read_aloud)
        ack = await owner.until("ack")
        await owner.stream(audio[:32000])
        await owner.send(type="ping")
        await owner.until("pong")  # the audio before it has been taken
        resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
        async with learner(cluster.b, token) as thief:
            await thief.send(type="start", resume={**resume, "token": "guess"})
            assert (await thief.until("error"))["code"] == "bad_resume_token"
        async with learner(cluster.b, world.learner()) as other:
            await other.send(type="start", resume=resume)
            assert (await other.until("error"))["code"] == "not_resumable"
        # The newest connection wins, as on one node: the old one is closed with 4409.
        async with learner(cluster.b, token) as second:
            await second.send(type="start", resume=resume)
            moved = await second.until("ack")
            assert moved["resumed"] is True and moved["received_bytes"] == 32000
            assert await owner.closed() == 4409
            await second.stream(audio[32000:64000])
            await second.send(type="ping")
            await second.until("pong")
    # And back to node A, which now has to ask node B.
    async with learner(cluster.a, token) as back:
        await back.send(type="start", resume=resume)
        resumed = await back.until("ack")
        assert resumed["resumed"] is True and resumed["received_bytes"] == 64000
        await back.stream(audio[64000:])
        await back.send(type="stop")
        final = await back.until("final")
    assert final["audio_ms"] == len(audio) // 32
    assert back.of_type("audio_received")[-1]["bytes"] == len(audio)
    row = await completed_row(postgres_url, ack["session_id"])
    assert row.status == "completed" and row.node_id == "node-a"


@pytest.fixture
def outage_cluster(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Cluster, PrivateRedis]]:
    store = PrivateRedis(tmp_path)
    store.start()
    try:

        @contextmanager
        def node(name: str, *, first: bool) -> Iterator[Server]:
            (tmp_path / name).mkdir()
            with running_server(
                tmp_path / name,
                postgres_url,
                first=first,
                PARLEY_SERVER__NODE_ID=f"node-{name}",
                PARLEY_REDIS__URL=store.url,
                PARLEY_REALTIME__LEASE_TTL_S=str(LEASE_TTL_S),
                PARLEY_REALTIME__RESUME_GRACE_S="30",
                PARLEY_REALTIME__IDLE_TIMEOUT_S="20",
            ) as server:
                yield server

        with node("a", first=True) as a, node("b", first=False) as b:
            yield Cluster(a, b, build_world(a)), store
    finally:
        store.stop()


async def test_audio_sent_during_a_redis_outage_becomes_durable_when_it_returns(
    outage_cluster: tuple[Cluster, PrivateRedis],
) -> None:
    cluster, store = outage_cluster
    world, token, audio = cluster.world, cluster.world.learner(), pcm(JFK)
    uninterrupted = await uninterrupted_final(cluster.b, token, world.read_aloud, audio)

    first, second = len(audio) * 2 // 5 // 3200 * 3200, len(audio) * 7 // 10 // 3200 * 3200
    async with learner(cluster.a, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.stream(audio[:first])
        while (await client.until("audio_received"))["bytes"] < first:
            pass
        store.stop()
        await client.stream(audio[first:second])  # the session goes on without Redis
        await client.send(type="ping")
        await client.until("pong")
        assert all(m["bytes"] <= first for m in client.of_type("audio_received"))
        store.start()
        while (await client.until("audio_received", limit_s=20))["bytes"] < second:
            pass
        assert not client.of_type("error")
        cluster.a.process.kill()
        cluster.a.process.wait()
        await client.closed()

    async with asyncio.timeout(LEASE_TTL_S * 5):
        while True:
            async with learner(cluster.b, token) as client:
                resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
                await client.send(type="start", resume=resume)
                answer = await client.until("ack", "error")
                if answer["type"] == "error":
                    # Node B's own Redis connection may need a moment to come back, too.
                    assert answer["code"] in ("session_busy", "resume_unavailable"), answer
                    await asyncio.sleep(0.3)  # the client's retry pause
                    continue
                assert answer["received_bytes"] == second
                await client.stream(audio[second:])
                await client.send(type="stop")
                final = await client.until("final")
                break
    assert final["transcript"] == uninterrupted["transcript"]
    assert final["audio_ms"] == uninterrupted["audio_ms"]


async def test_a_session_whose_redis_state_is_lost_finishes_on_its_node(
    outage_cluster: tuple[Cluster, PrivateRedis],
) -> None:
    cluster, store = outage_cluster
    world, token, audio = cluster.world, cluster.world.learner(), pcm(JFK)
    uninterrupted = await uninterrupted_final(cluster.a, token, world.read_aloud, audio)

    half = len(audio) // 2 // 3200 * 3200
    async with learner(cluster.a, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        ack = await client.until("ack")
        await client.stream(audio[:half])
        while (await client.until("audio_received"))["bytes"] < half:
            pass
        store.stop(lose_data=True)  # Redis comes back empty: the session's state is gone
        store.start()
        await client.stream(audio[half:])
        await client.send(type="stop")
        final = await client.until("final")
        assert not client.of_type("error")
    # Durability ended for the session, so it counts what the node holds: everything.
    assert client.of_type("audio_received")[-1]["bytes"] == len(audio)
    assert final["transcript"] == uninterrupted["transcript"]
    assert final["audio_ms"] == uninterrupted["audio_ms"]
    async with learner(cluster.b, token) as other:
        resume = {"session_id": ack["session_id"], "token": ack["resume_token"]}
        await other.send(type="start", resume=resume)
        answer = await other.until("error")
        assert answer["code"] in ("not_resumable", "resume_unavailable"), answer
