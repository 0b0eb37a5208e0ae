"""The hand-off control channel between nodes, on real Redis (a private server where the
test stops and restarts it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from realtime.handoff import HandoffChannel
from storage.redis_keys import Keys
from tests.realtime.cluster import eventually
from tests.realtime.redis_server import PrivateRedis, private_redis
from tests.services import REDIS_URL, require


class Holder:
    """A node's side: which sessions it was asked for, and what it answers."""

    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.asked: list[uuid.UUID] = []

    async def __call__(self, session_id: uuid.UUID) -> bool:
        self.asked.append(session_id)
        return self.answer


async def channels(redis: Redis, keys: Keys) -> tuple[HandoffChannel, HandoffChannel]:
    a = HandoffChannel(redis=redis, keys=keys, node_id="node-a")
    b = HandoffChannel(redis=redis, keys=keys, node_id="node-b")
    await a.start()
    await b.start()
    return a, b


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    require("Redis", REDIS_URL)
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_the_holder_answers_on_the_askers_channel(redis: Redis) -> None:
    a, b = await channels(redis, Keys(f"parley-test-{uuid.uuid4().hex[:10]}"))
    try:
        holder = Holder(answer=True)
        a.bind(holder)
        session_id = uuid.uuid4()
        assert await b.request("node-a", session_id, 3.0) is True
        assert holder.asked == [session_id]
        holder.answer = False
        assert await b.request("node-a", session_id, 3.0) is False
        # A node nobody listens for (dead, or without hand-off) is a refusal, at once.
        assert await b.request("node-gone", session_id, 3.0) is False
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_malformed_control_message_is_ignored(redis: Redis) -> None:
    keys = Keys(f"parley-test-{uuid.uuid4().hex[:10]}")
    a, b = await channels(redis, keys)
    try:
        a.bind(Holder(answer=True))
        for junk in ("not json", '{"handoff": "not-a-uuid"}', '{"handoff": "x"', "[1]"):
            await redis.publish(keys.node_control("node-a"), junk)
        assert await b.request("node-a", uuid.uuid4(), 3.0) is True
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_node_that_does_not_answer_in_time_is_refused(redis: Redis) -> None:
    a, b = await channels(redis, Keys(f"parley-test-{uuid.uuid4().hex[:10]}"))
    stalled = asyncio.Event()

    async def never(_session_id: uuid.UUID) -> bool:
        await stalled.wait()
        return True

    try:
        a.bind(never)
        assert await b.request("node-a", uuid.uuid4(), 0.3) is False
    finally:
        stalled.set()
        await a.aclose()
        await b.aclose()


@pytest.fixture
def restartable() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


async def test_the_channel_resubscribes_when_redis_comes_back(
    restartable: PrivateRedis,
) -> None:
    client = Redis.from_url(restartable.url, socket_connect_timeout=0.5)
    a, b = await channels(client, Keys("parley"))
    try:
        a.bind(Holder(answer=True))
        assert await b.request("node-a", uuid.uuid4(), 3.0) is True
        restartable.stop()
        assert await b.request("node-a", uuid.uuid4(), 0.5) is False
        restartable.start()

        async def answered() -> bool:
            return await b.request("node-a", uuid.uuid4(), 1.0)

        await eventually(answered, limit_s=15.0)
    finally:
        await a.aclose()
        await b.aclose()
        await client.aclose()
