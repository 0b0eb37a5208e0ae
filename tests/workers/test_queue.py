"""The task queue contract, on Redis, in the database (SQLite and PostgreSQL) and in memory;
the reclaim and renewal rules of the queues that outlive a process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from storage.engine import create_engine, create_sessionmaker
from storage.migrate import upgrade_async
from storage.redis_keys import Keys
from storage.settings import DatabaseSettings
from tests.services import REDIS_URL, require
from workers.queue import Task, TaskQueue
from workers.queue_db import DatabaseTaskQueue
from workers.queue_memory import MemoryTaskQueue
from workers.queue_redis import RedisTaskQueue
from workers.settings import WorkerSettings

# Idle 2 s before a task is reclaimed, renewed every 0.5 s: a test process stalled for a
# moment (a full collection of its large heap, a busy CI machine) must not look like a
# dead consumer.
RECLAIM_S = 2.0
RENEW_S = 0.5
SETTINGS = WorkerSettings(reclaim_idle_s=RECLAIM_S, block_s=0.2)


@pytest.fixture
async def redis_queue() -> AsyncIterator[RedisTaskQueue]:
    require("Redis", REDIS_URL)
    keys = Keys(f"parley-test-{uuid.uuid4().hex[:8]}")
    client = Redis.from_url(REDIS_URL)
    yield RedisTaskQueue(client, keys, SETTINGS)
    async for key in client.scan_iter(f"{keys.prefix}:*"):
        await client.delete(key)
    await client.aclose()


@asynccontextmanager
async def database(url: str) -> AsyncIterator[DatabaseTaskQueue]:
    await upgrade_async(url)
    engine = create_engine(DatabaseSettings(url=url))
    yield DatabaseTaskQueue(create_sessionmaker(engine), wait_s=0.2, reclaim_idle_s=RECLAIM_S)
    await engine.dispose()


@pytest.fixture
async def sqlite_queue(sqlite_url: str) -> AsyncIterator[DatabaseTaskQueue]:
    async with database(sqlite_url) as queue:
        yield queue


@pytest.fixture
async def postgres_queue(postgres_url: str) -> AsyncIterator[DatabaseTaskQueue]:
    async with database(postgres_url) as queue:
        yield queue


@pytest.fixture
async def database_queue(db_url: str) -> AsyncIterator[DatabaseTaskQueue]:
    async with database(db_url) as queue:
        yield queue


@pytest.fixture(params=["memory", "redis", "sqlite", "postgres"])
def queue(request: pytest.FixtureRequest) -> TaskQueue:
    if request.param == "memory":
        return MemoryTaskQueue(wait_s=0.2)
    found: TaskQueue = request.getfixturevalue(f"{request.param}_queue")
    return found


def task() -> Task:
    return Task(uuid.uuid4(), uuid.uuid4())


async def test_each_task_goes_to_one_consumer_and_ack_removes_it(queue: TaskQueue) -> None:
    first, second = task(), task()
    await queue.enqueue([first, second])
    a = await queue.receive("a")
    b = await queue.receive("b")
    assert a is not None and b is not None
    assert {a.task, b.task} == {first, second} and a.attempt == b.attempt == 1
    assert await queue.receive("c") is None
    assert await queue.pending() == 2
    await queue.ack(a)
    await queue.ack(b)
    assert await queue.pending() == 0


async def test_retry_counts_attempts_and_release_does_not(queue: TaskQueue) -> None:
    await queue.enqueue([task()])
    one = await queue.receive("a")
    assert one is not None
    await queue.retry(one)
    two = await queue.receive("a")
    assert two is not None and two.task.session_id == one.task.session_id
    assert two.attempt == 2
    await queue.release(two)
    again = await queue.receive("b")
    assert again is not None and again.attempt == 2
    await queue.dead_letter(again, "it broke")
    assert await queue.pending() == 0
    (dead,) = await queue.dead()
    assert (dead.task.session_id, dead.error, dead.attempts) == (one.task.session_id, "it broke", 2)


async def test_redis_reclaims_a_silent_consumer_task_but_not_a_renewed_one(
    redis_queue: RedisTaskQueue,
) -> None:
    await redis_queue.enqueue([task(), task()])
    held = await redis_queue.receive("alive")
    lost = await redis_queue.receive("dead")
    assert held is not None and lost is not None
    # "alive" renews its task; "dead" says nothing past the idle time.
    for _ in range(5):
        await asyncio.sleep(RENEW_S)  # the idle time being tested is wall-clock time
        await redis_queue.keepalive(held, "alive")
    reclaimed = await redis_queue.receive("other")
    assert reclaimed is not None
    assert reclaimed.id == lost.id and reclaimed.attempt == 2
    assert await redis_queue.receive("other") is None  # the renewed task stays with "alive"


async def test_redis_finds_a_dead_consumer_task_behind_many_live_ones(
    redis_queue: RedisTaskQueue,
) -> None:
    await redis_queue.enqueue([task() for _ in range(13)])
    held = [await redis_queue.receive("alive") for _ in range(12)]
    lost = await redis_queue.receive("dead")
    assert lost is not None and all(held)
    for _ in range(5):
        await asyncio.sleep(RENEW_S)  # the idle time being tested is wall-clock time
        for delivery in held:
            assert delivery is not None
            await redis_queue.keepalive(delivery, "alive")
    # One XAUTOCLAIM call looks at 10 pending entries; the next call continues after them
    # (both well within the idle time of the renewed entries).
    found = await redis_queue.receive("other") or await redis_queue.receive("other")
    assert found is not None and found.id == lost.id


async def test_the_database_reclaims_a_silent_consumer_task_but_not_a_renewed_one(
    database_queue: DatabaseTaskQueue,
) -> None:
    await database_queue.enqueue([task(), task()])
    held = await database_queue.receive("alive")
    lost = await database_queue.receive("dead")
    assert held is not None and lost is not None
    for _ in range(5):
        await asyncio.sleep(RENEW_S)  # the idle time being tested is wall-clock time
        await database_queue.keepalive(held, "alive")
    reclaimed = await database_queue.receive("other")
    assert reclaimed is not None
    assert reclaimed.id == lost.id and reclaimed.attempt == 2
    assert await database_queue.receive("other") is None


async def test_a_restarted_server_hands_out_its_dead_process_s_tasks_at_once(
    database_queue: DatabaseTaskQueue,
) -> None:
    await database_queue.enqueue([task()])
    lost = await database_queue.receive("before-the-crash")
    assert lost is not None
    assert await database_queue.receive("after") is None  # still within the idle time
    assert await database_queue.recover() == 1
    again = await database_queue.receive("after")
    assert again is not None and again.id == lost.id and again.attempt == 2
