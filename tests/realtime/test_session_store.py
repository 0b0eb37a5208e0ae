"""The session store contract, run against every implementation (memory, disk, real Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from realtime.session_store import (
    AppendResult,
    MemorySessionStore,
    SessionState,
    SessionStore,
    token_digest,
)
from realtime.session_store_disk import DiskSessionStore
from realtime.session_store_redis import RedisSessionStore
from storage.practice import ExerciseInfo
from storage.redis_keys import Keys
from tests.services import REDIS_URL, require

LEASE_MS = 400


@pytest.fixture(params=["memory", "disk", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore()
        return
    if request.param == "disk":
        disk = DiskSessionStore(tmp_path / "live")
        yield disk
        disk.close()
        return
    require("Redis", REDIS_URL)
    redis = Redis.from_url(REDIS_URL)
    prefix = f"parley-test-{uuid.uuid4().hex[:10]}"
    try:
        yield RedisSessionStore(redis, keys=Keys(prefix), ttl_s=60)
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def a_state(token: str = "secret-token") -> SessionState:
    exercise = ExerciseInfo(
        id=uuid.uuid4(),
        course_id=uuid.uuid4(),
        kind="read_aloud",
        title="JFK",
        reference_text="ask not",
        prompt=None,
        time_limit_s=30,
    )
    return SessionState(
        session_id=uuid.uuid4(),
        learner_id=uuid.uuid4(),
        exercise=exercise,
        sample_rate=22050,
        interim=False,
        token_digest=token_digest(token),
        started_at=time.time(),
        node="node-a",
    )


async def test_state_and_audio_round_trip(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", LEASE_MS)
    assert await store.append(state.session_id, "a/1", 0, b"\x01\x02\x03") == 3
    assert await store.append(state.session_id, "a/1", 3, b"\x00\xff") == 5
    stored = await store.load(state.session_id)
    assert stored is not None
    assert stored.state == state
    assert stored.audio == b"\x01\x02\x03\x00\xff"
    assert stored.stopped is False
    assert stored.state.token_matches("secret-token")
    assert not stored.state.token_matches("secret-tokeN")


async def test_unknown_session_loads_as_none(store: SessionStore) -> None:
    assert await store.load(uuid.uuid4()) is None
    assert await store.claim(uuid.uuid4(), "b/1", LEASE_MS) is False
    assert await store.renew(uuid.uuid4(), "b/1", LEASE_MS) is None


async def test_append_at_a_wrong_offset_writes_nothing(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", LEASE_MS)
    await store.append(state.session_id, "a/1", 0, b"abcd")
    assert await store.append(state.session_id, "a/1", 2, b"xy") == AppendResult.MISMATCH
    assert await store.append(state.session_id, "a/1", 6, b"xy") == AppendResult.MISMATCH
    stored = await store.load(state.session_id)
    assert stored is not None and stored.audio == b"abcd"


async def test_only_the_lease_holder_appends(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", LEASE_MS)
    assert await store.append(state.session_id, "b/1", 0, b"zz") == AppendResult.NOT_OWNER
    stored = await store.load(state.session_id)
    assert stored is not None and stored.audio == b""


async def test_a_live_lease_refuses_a_second_claim_until_it_lapses(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", LEASE_MS)
    assert await store.claim(state.session_id, "b/1", LEASE_MS) is False
    assert await store.renew(state.session_id, "a/1", LEASE_MS) is True
    await asyncio.sleep(LEASE_MS / 1000 + 0.1)  # the lease's own time-to-live must pass
    assert await store.claim(state.session_id, "b/1", LEASE_MS) is True
    # The old owner finds it taken: it may neither renew nor write.
    assert await store.renew(state.session_id, "a/1", LEASE_MS) is False
    assert await store.append(state.session_id, "a/1", 0, b"late") == AppendResult.NOT_OWNER
    assert await store.append(state.session_id, "b/1", 0, b"new") == 3


async def test_a_lapsed_lease_nobody_took_is_renewed(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", 100)
    await asyncio.sleep(0.2)
    assert await store.renew(state.session_id, "a/1", LEASE_MS) is True
    assert await store.claim(state.session_id, "b/1", LEASE_MS) is False


async def test_a_released_lease_is_claimed_at_once_and_keeps_the_session(
    store: SessionStore,
) -> None:
    state = a_state()
    await store.create(state, "node-a/1", LEASE_MS)
    assert await store.append(state.session_id, "node-a/1", 0, b"abc") == 3
    assert await store.holder(state.session_id) == "node-a/1"
    assert await store.release(state.session_id, "b/1") is False  # not the holder's
    assert await store.holder(state.session_id) == "node-a/1"
    assert await store.release(state.session_id, "node-a/1") is True
    assert await store.holder(state.session_id) is None
    assert await store.claim(state.session_id, "b/1", LEASE_MS) is True
    assert await store.holder(state.session_id) == "b/1"
    assert await store.release(state.session_id, "node-a/1") is False
    stored = await store.load(state.session_id)
    assert stored is not None and stored.audio == b"abc"
    assert await store.holder(uuid.uuid4()) is None


async def test_stopped_is_marked_by_the_owner_only(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", LEASE_MS)
    await store.mark_stopped(state.session_id, "b/1")
    stored = await store.load(state.session_id)
    assert stored is not None and stored.stopped is False
    await store.mark_stopped(state.session_id, "a/1")
    stored = await store.load(state.session_id)
    assert stored is not None and stored.stopped is True


async def test_delete_by_the_owner_removes_everything(store: SessionStore) -> None:
    state = a_state()
    await store.create(state, "a/1", LEASE_MS)
    await store.append(state.session_id, "a/1", 0, b"abc")
    await store.delete(state.session_id, "b/1")  # not the owner: nothing happens
    assert await store.load(state.session_id) is not None
    await store.delete(state.session_id, "a/1")
    assert await store.load(state.session_id) is None
    assert await store.claim(state.session_id, "b/1", LEASE_MS) is False
    assert await store.renew(state.session_id, "a/1", LEASE_MS) is None
    assert await store.append(state.session_id, "a/1", 3, b"d") == AppendResult.MISMATCH


async def test_redis_keys_expire() -> None:
    require("Redis", REDIS_URL)
    redis = Redis.from_url(REDIS_URL)
    keys = Keys(f"parley-test-{uuid.uuid4().hex[:10]}")
    store = RedisSessionStore(redis, keys=keys, ttl_s=60)
    state = a_state()
    try:
        await store.create(state, "a/1", LEASE_MS)
        await store.append(state.session_id, "a/1", 0, b"abc")
        for key in (keys.session_state(state.session_id), keys.session_audio(state.session_id)):
            assert 0 < await redis.ttl(key) <= 60
        assert 0 < await redis.pttl(keys.session_lease(state.session_id)) <= LEASE_MS
    finally:
        await store.delete(state.session_id, "a/1")
        await redis.aclose()
