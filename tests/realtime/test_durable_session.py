"""Sessions that outlive their node, in process: two services ("nodes") sharing one
session store (in memory; real Redis for the live hand-off), with fakes for speech and
storage. The same paths run against real processes in `test_cross_node_resume`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from realtime.handoff import HandoffChannel
from realtime.observe_protocol import EventMessage
from realtime.ports import SessionMeta
from realtime.protocol import Ack, AudioReceived, CloseCode, Final, Resume, Start
from realtime.service import HANDOFF_WAIT_S, PracticeService
from realtime.session import PracticeSession
from realtime.session_state import State
from realtime.session_store import MemorySessionStore, SessionState, SessionStore, StoredSession
from realtime.session_store_redis import RedisSessionStore
from realtime.settings import RealtimeSettings
from storage.access import Principal
from storage.errors import Conflict, NotFound, Unauthenticated
from storage.redis_keys import Keys
from tests.realtime.fakes import (
    LIMIT_S,
    FakeClient,
    FakeEngine,
    FakeRecorder,
    authenticating,
    exercise,
    exercises_of,
    learner,
    tone,
)
from tests.services import REDIS_URL, require

LEASE_S = 0.5


class CutStore(MemorySessionStore):
    """The shared store as one node sees it: `cut` makes every call fail like a lost Redis."""

    def __init__(self, shared: SessionStore) -> None:
        self._shared = shared
        self.cut = False

    def _check(self) -> None:
        if self.cut:
            raise ConnectionError("session store unreachable")

    async def create(self, state: SessionState, owner: str, lease_ms: int) -> None:
        self._check()
        await self._shared.create(state, owner, lease_ms)

    async def load(self, session_id: uuid.UUID) -> StoredSession | None:
        self._check()
        return await self._shared.load(session_id)

    async def append(self, session_id: uuid.UUID, owner: str, offset: int, data: bytes) -> int:
        self._check()
        return await self._shared.append(session_id, owner, offset, data)

    async def mark_stopped(self, session_id: uuid.UUID, owner: str) -> None:
        self._check()
        await self._shared.mark_stopped(session_id, owner)

    async def claim(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool:
        self._check()
        return await self._shared.claim(session_id, owner, lease_ms)

    async def renew(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool | None:
        self._check()
        return await self._shared.renew(session_id, owner, lease_ms)

    async def delete(self, session_id: uuid.UUID, owner: str) -> None:
        self._check()
        await self._shared.delete(session_id, owner)

    async def holder(self, session_id: uuid.UUID) -> str | None:
        self._check()
        return await self._shared.holder(session_id)

    async def release(self, session_id: uuid.UUID, owner: str) -> bool:
        self._check()
        return await self._shared.release(session_id, owner)


class Events:
    """What a node tells its observers (as `realtime.hub.Hub` gets it)."""

    def __init__(self) -> None:
        self.seen: list[EventMessage] = []
        self.forgotten: list[uuid.UUID] = []

    def publish(self, session: SessionMeta, message: EventMessage) -> None:
        self.seen.append(message)

    def forget(self, session_id: uuid.UUID) -> None:
        self.forgotten.append(session_id)

    def types(self) -> list[str]:
        return [m.type for m in self.seen]


@dataclass
class Node:
    service: PracticeService
    recorder: FakeRecorder
    store: CutStore
    events: Events

    async def start(
        self, who: Principal, client: FakeClient, exercise_id: uuid.UUID
    ) -> PracticeSession:
        return await self.service.start(Start(type="start", exercise_id=exercise_id), who, client)

    async def resume(
        self, who: Principal, client: FakeClient, session_id: uuid.UUID, token: str
    ) -> PracticeSession:
        message = Start(type="start", resume=Resume(session_id=session_id, token=token))
        return await self.service.start(message, who, client)


@dataclass
class Cluster:
    a: Node
    b: Node
    store: SessionStore
    exercise_id: uuid.UUID


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    async for made in _cluster(MemorySessionStore()):
        yield made


@pytest.fixture
async def redis_cluster() -> AsyncIterator[Cluster]:
    """Two nodes sharing real Redis: its session store and their hand-off channels."""
    require("Redis", REDIS_URL)
    redis = Redis.from_url(REDIS_URL)
    keys = Keys(f"parley-test-{uuid.uuid4().hex[:10]}")
    try:
        store = RedisSessionStore(redis, keys=keys, ttl_s=60)
        async for made in _cluster(store, redis=redis, keys=keys):
            yield made
    finally:
        stale = [key async for key in redis.scan_iter(match=f"{keys.prefix}:*")]
        if stale:
            await redis.delete(*stale)
        await redis.aclose()


async def _cluster(
    shared: SessionStore, *, redis: Redis | None = None, keys: Keys | None = None
) -> AsyncIterator[Cluster]:
    known = exercise()
    nodes: list[Node] = []

    async def node(name: str) -> Node:
        recorder, store, events = FakeRecorder(), CutStore(shared), Events()
        handoff = None
        if redis is not None and keys is not None:
            handoff = HandoffChannel(redis=redis, keys=keys, node_id=name)
        service = PracticeService(
            settings=RealtimeSettings(audio_received_interval_ms=50, lease_ttl_s=LEASE_S),
            engine=FakeEngine(),
            recorder=recorder,
            exercises=exercises_of(known),
            authenticate=authenticating(learner),
            interim_interval_s=0.005,
            store=store,
            node_id=name,
            handoff=handoff,
            events=events,
        )
        await service.open()
        nodes.append(Node(service, recorder, store, events))
        return nodes[-1]

    yield Cluster(await node("a"), await node("b"), shared, known.id)
    for n in nodes:
        n.store.cut = False
        await n.service.close()


async def durable(session: PracticeSession) -> None:
    assert session.durable is not None
    assert await session.durable.flush(LIMIT_S)


async def lease_lapses() -> None:
    await asyncio.sleep(LEASE_S + 0.2)  # a lease ends by its time-to-live, nothing else


def ack_of(client: FakeClient) -> Ack:
    acks = client.of_type("ack")
    assert isinstance(acks[-1], Ack)
    return acks[-1]


async def final_of(client: FakeClient) -> Final:
    message = await client.until("final")
    assert isinstance(message, Final)
    return message


async def test_a_dead_nodes_session_continues_on_another_with_the_same_final(
    cluster: Cluster,
) -> None:
    who, first = learner(), FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    for value in (1, 2, 3):
        session.audio(tone(value))
    await durable(session)
    token = ack_of(first).resume_token
    # Node A dies: its tasks stop, nothing is cleaned up; its lease lives on for a while.
    await cluster.a.service.close()

    second = FakeClient()
    with pytest.raises(Conflict) as busy:
        await cluster.b.resume(who, second, session.id, token)
    assert busy.value.code == "session_busy"
    await lease_lapses()
    moved = await cluster.b.resume(who, second, session.id, token)
    ack = ack_of(second)
    assert ack.resumed and ack.session_id == session.id and ack.received_bytes == 3 * 3200
    assert ack.resume_token == token
    moved.audio(tone(4))
    moved.stop()
    final = await final_of(second)
    assert final.transcript == "w1 w2 w3 w4" and final.audio_ms == 400
    assert cluster.b.recorder.moves == [session.id]
    assert len(cluster.b.recorder.completions) == 1 and not cluster.a.recorder.completions
    assert moved.durable is not None
    async with asyncio.timeout(LIMIT_S):
        await moved.durable.closed.wait()
    assert await cluster.store.load(session.id) is None  # ended: no longer resumable anywhere


async def test_a_resume_elsewhere_needs_the_token_and_the_learner(cluster: Cluster) -> None:
    who = learner()
    client = FakeClient()
    session = await cluster.a.start(who, client, cluster.exercise_id)
    token = ack_of(client).resume_token
    with pytest.raises(Unauthenticated) as wrong:
        await cluster.b.resume(who, FakeClient(), session.id, token + "x")
    assert wrong.value.code == "bad_resume_token"
    with pytest.raises(NotFound) as other:
        await cluster.b.resume(learner(), FakeClient(), session.id, token)
    assert other.value.code == "not_resumable"
    with pytest.raises(NotFound):
        await cluster.b.resume(who, FakeClient(), uuid.uuid4(), token)
    session.cancel()


async def test_an_owner_that_finds_its_lease_taken_gives_up_silently(cluster: Cluster) -> None:
    who, first = learner(), FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    session.audio(tone(1))
    await durable(session)
    token = ack_of(first).resume_token
    cluster.a.store.cut = True  # node A loses Redis; its learner reconnects to node B
    await lease_lapses()
    second = FakeClient()
    moved = await cluster.b.resume(who, second, session.id, token)
    cluster.a.store.cut = False
    async with asyncio.timeout(LIMIT_S):
        await session.finished.wait()
    assert session.state is State.ABANDONED
    assert first.closes == [CloseCode.CONFLICT]
    assert not cluster.a.recorder.endings and not cluster.a.recorder.completions
    assert session not in list(cluster.a.service.registry)
    moved.audio(tone(2))
    moved.stop()
    assert (await final_of(second)).transcript == "w1 w2"


async def test_audio_during_a_store_outage_is_acknowledged_once_durable(
    cluster: Cluster,
) -> None:
    who, client = learner(), FakeClient()
    session = await cluster.a.start(who, client, cluster.exercise_id)
    session.audio(tone(1))
    await durable(session)
    cluster.a.store.cut = True
    session.audio(tone(2))
    session.audio(tone(3))
    assert session.received_bytes == 3 * 3200 and session.acked_bytes == 3200
    receipts = [m for m in client.messages if isinstance(m, AudioReceived)]
    assert receipts and all(m.bytes <= 3200 for m in receipts)
    cluster.a.store.cut = False
    await durable(session)
    assert session.acked_bytes == 3 * 3200
    # Reported without further audio, once the interval allows.
    while True:
        receipt = await client.until("audio_received")
        assert isinstance(receipt, AudioReceived)
        if receipt.bytes == 3 * 3200:
            break
    stored = await cluster.store.load(session.id)
    assert stored is not None and stored.audio == tone(1) + tone(2) + tone(3)
    session.stop()
    final = await final_of(client)
    receipts = [m for m in client.messages if isinstance(m, AudioReceived)]
    assert receipts[-1].bytes == 3 * 3200 and final.transcript == "w1 w2 w3"


async def test_a_session_starts_without_the_store_and_stays_on_its_node(
    cluster: Cluster,
) -> None:
    cluster.a.store.cut = True
    who, client = learner(), FakeClient()
    session = await cluster.a.start(who, client, cluster.exercise_id)
    assert session.durable is None
    session.audio(tone(5))
    assert session.acked_bytes == 3200
    with pytest.raises(NotFound):
        await cluster.b.resume(who, FakeClient(), session.id, ack_of(client).resume_token)
    session.stop()
    assert (await final_of(client)).transcript == "w5"


async def test_a_stop_made_durable_is_finished_by_the_next_node(cluster: Cluster) -> None:
    who, first = learner(), FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    engine = cluster.a.service.engine
    assert isinstance(engine, FakeEngine)
    engine.hold.clear()  # node A dies while evaluating
    session.audio(tone(7))
    session.stop()
    async with asyncio.timeout(LIMIT_S):
        await engine.evaluating.wait()
    token = ack_of(first).resume_token
    await cluster.a.service.close()
    await lease_lapses()
    second = FakeClient()
    await cluster.b.resume(who, second, session.id, token)
    assert ack_of(second).received_bytes == 3200
    assert (await final_of(second)).transcript == "w7"


async def uninterrupted(node: Node, who: Principal, exercise_id: uuid.UUID) -> Final:
    client = FakeClient()
    session = await node.start(who, client, exercise_id)
    for value in (1, 2, 3, 4):
        session.audio(tone(value))
    session.stop()
    return await final_of(client)


async def test_a_resume_elsewhere_takes_the_session_from_its_live_owner(
    redis_cluster: Cluster,
) -> None:
    cluster, who = redis_cluster, learner()
    expected = await uninterrupted(cluster.b, who, cluster.exercise_id)
    first = FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    session.audio(tone(1))
    await durable(session)
    session.audio(tone(2))
    session.audio(tone(3))  # accepted, perhaps not yet durable: the hand-off waits for it
    token = ack_of(first).resume_token

    # The learner's connection to A still looks alive to A; they resume on B at once.
    second = FakeClient()
    moved = await cluster.b.resume(who, second, session.id, token)
    ack = ack_of(second)
    assert ack.resumed and ack.session_id == session.id and ack.resume_token == token
    assert ack.received_bytes == 3 * 3200
    assert first.closes == [CloseCode.CONFLICT]
    assert session.state is State.ABANDONED and session not in list(cluster.a.service.registry)
    session.audio(tone(9))  # a frame still on its way to A is not taken
    assert session.received_bytes == 3 * 3200
    moved.audio(tone(4))
    moved.stop()
    final = await final_of(second)
    assert final.transcript == expected.transcript == "w1 w2 w3 w4"
    assert final.audio_ms == expected.audio_ms and final.words == expected.words
    assert not cluster.a.recorder.endings and not cluster.a.recorder.completions
    assert cluster.b.recorder.moves == [session.id]
    assert [c[0] for c in cluster.b.recorder.completions] == [expected.session_id, session.id]
    # Observers: A never says the session ended (it goes on); B announces it and ends it.
    assert "session_ended" not in cluster.a.events.types()
    assert cluster.a.events.forgotten == [session.id]
    told = [t for t in cluster.b.events.types() if t != "interim_transcript"]
    assert told[-3:] == ["session_started", "final", "session_ended"]


async def test_a_session_moves_back_and_forth_between_live_nodes(redis_cluster: Cluster) -> None:
    cluster, who, first = redis_cluster, learner(), FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    token = ack_of(first).resume_token
    session.audio(tone(1))
    second = FakeClient()
    on_b = await cluster.b.resume(who, second, session.id, token)
    on_b.audio(tone(2))
    third = FakeClient()
    back = await cluster.a.resume(who, third, session.id, token)
    assert second.closes == [CloseCode.CONFLICT] and ack_of(third).received_bytes == 2 * 3200
    back.audio(tone(3))
    back.stop()
    assert (await final_of(third)).transcript == "w1 w2 w3"
    assert len(cluster.a.recorder.completions) == 1 and not cluster.b.recorder.completions


async def test_a_holder_that_cannot_make_its_audio_durable_keeps_the_session(
    redis_cluster: Cluster,
) -> None:
    cluster, who, first = redis_cluster, learner(), FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    session.audio(tone(1))
    await durable(session)
    cluster.a.store.cut = True  # A cannot write its audio; its control channel still works
    session.audio(tone(2))
    token = ack_of(first).resume_token
    with pytest.raises(Conflict) as busy:
        await cluster.b.resume(who, FakeClient(), session.id, token)
    assert busy.value.code == "session_busy"
    assert session.state is State.STREAMING and not first.closes
    cluster.a.store.cut = False
    await durable(session)
    session.stop()
    assert (await final_of(first)).transcript == "w1 w2"
    assert not cluster.b.recorder.moves


async def test_a_finalizing_session_is_not_handed_over(redis_cluster: Cluster) -> None:
    cluster, who, first = redis_cluster, learner(), FakeClient()
    engine = cluster.a.service.engine
    assert isinstance(engine, FakeEngine)
    engine.hold.clear()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    session.audio(tone(6))
    session.stop()
    async with asyncio.timeout(LIMIT_S):
        await engine.evaluating.wait()
    with pytest.raises(Conflict) as busy:
        await cluster.b.resume(who, FakeClient(), session.id, ack_of(first).resume_token)
    assert busy.value.code == "session_busy"
    engine.hold.set()
    assert (await final_of(first)).transcript == "w6" and not first.closes


async def test_a_dead_holder_is_not_waited_for(redis_cluster: Cluster) -> None:
    cluster, who, first = redis_cluster, learner(), FakeClient()
    session = await cluster.a.start(who, first, cluster.exercise_id)
    session.audio(tone(1))
    await durable(session)
    await cluster.a.service.close()  # A is gone; its lease lives until its TTL
    started = asyncio.get_running_loop().time()
    with pytest.raises(Conflict):
        await cluster.b.resume(who, FakeClient(), session.id, ack_of(first).resume_token)
    # Nobody listens on A's channel: B answers at once, not after the hand-off wait.
    assert asyncio.get_running_loop().time() - started < HANDOFF_WAIT_S
    await lease_lapses()
    second = FakeClient()
    await cluster.b.resume(who, second, session.id, ack_of(first).resume_token)
    assert ack_of(second).received_bytes == 3200
