"""The event bus seam, one suite over both implementations (in memory and real Redis)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio import Redis

from realtime.bus import BusUnavailable, Envelope, EventBus, Position
from realtime.bus_memory import MemoryBus
from realtime.bus_redis import RedisBus
from realtime.fanout import CannotRecover
from realtime.hub import Hub
from realtime.hub_settings import HubSettings
from realtime.observe_protocol import SessionStarted
from realtime.ports import SessionMeta
from realtime.presence import MemoryPresence
from realtime.protocol import InterimTranscript
from storage.redis_keys import Keys
from tests.realtime.cluster import eventually
from tests.realtime.redis_server import private_redis
from tests.services import REDIS_URL, require

MAX_LEN = 5
SETTINGS = HubSettings(stream_max_len=MAX_LEN, memory_channels=10, publish_queue_size=10)


async def make_bus(kind: str, prefix: str, node: str = "n1") -> EventBus:
    if kind == "memory":
        return MemoryBus(max_len=MAX_LEN, max_channels=SETTINGS.memory_channels)
    return RedisBus(url=REDIS_URL, keys=Keys(prefix), node_id=node, settings=SETTINGS)


@pytest.fixture
def prefix() -> str:
    return f"parley-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[EventBus]:
    if request.param == "redis":
        require("Redis", REDIS_URL)
    made = await make_bus(request.param, prefix)
    made.bind(lambda _envelope: None, lambda: None)
    await made.start()
    try:
        yield made
    finally:
        await made.aclose()
        if request.param == "redis":
            redis = Redis.from_url(REDIS_URL)
            keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()


@dataclass(eq=False)
class Collector:
    """A subscriber that records what the hub hands it."""

    events: list[Envelope] = field(default_factory=list)
    starts: list[Position] = field(default_factory=list)
    reloads: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def subscribed(self, channel: str, position: Position) -> None:
        self.starts.append(position)

    def deliver(self, envelope: Envelope) -> None:
        self.events.append(envelope)
        self.changed.set()

    def reload(self, channel: str, reason: str) -> None:
        self.reloads.append(reason)
        self.changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.events) < count and not self.reloads:
                self.changed.clear()
                await self.changed.wait()

    def numbers(self) -> list[int]:
        return [json.loads(e.data)["n"] for e in self.events]


async def publish(bus: EventBus, channel: str, *numbers: int) -> None:
    for n in numbers:
        await bus.publish([channel], json.dumps({"n": n}))


async def test_offsets_increase_per_channel_within_one_epoch(bus: EventBus) -> None:
    await publish(bus, "course:a", 1, 2, 3)
    await publish(bus, "course:b", 1)
    a, b = await bus.head("course:a"), await bus.head("course:b")
    assert a.offset == 3 and b.offset == 1
    assert a.epoch and a.epoch != b.epoch
    empty = await bus.head("course:never")
    assert empty.offset == 0 and empty.epoch == (await bus.head("course:never")).epoch


async def test_since_gives_exactly_the_missed_events(bus: EventBus) -> None:
    await publish(bus, "session:s", 1, 2)
    seen = await bus.head("session:s")
    await publish(bus, "session:s", 3, 4)
    backlog = await bus.since("session:s", seen)
    assert backlog is not None
    assert [e.offset for e in backlog.events] == [3, 4]
    assert [json.loads(e.data)["n"] for e in backlog.events] == [3, 4]
    assert backlog.head == Position(4, seen.epoch)
    now = await bus.since("session:s", backlog.head)
    assert now is not None and now.events == []


async def test_another_epoch_or_trimmed_history_cannot_be_recovered(bus: EventBus) -> None:
    await publish(bus, "session:t", *range(1, 9))  # 8 events, 5 kept
    epoch = (await bus.head("session:t")).epoch
    assert await bus.since("session:t", Position(2, epoch)) is None, "events 3 was trimmed"
    kept = await bus.since("session:t", Position(3, epoch))
    assert kept is not None and [e.offset for e in kept.events] == [4, 5, 6, 7, 8]
    assert await bus.since("session:t", Position(8, "another-epoch")) is None
    assert await bus.since("session:t", Position(9, epoch)) is None, "an offset from the future"


async def test_a_lost_channel_starts_a_new_epoch(bus: EventBus, prefix: str) -> None:
    await publish(bus, "learner:l", 1, 2)
    before = await bus.head("learner:l")
    if isinstance(bus, RedisBus):
        keys = Keys(prefix)
        await bus.redis.delete(keys.hub_meta("learner:l"), keys.hub_stream("learner:l"))
    else:
        for n in range(SETTINGS.memory_channels):  # crowd it out
            await publish(bus, f"course:{n}", 1)
    await publish(bus, "learner:l", 3)
    after = await bus.head("learner:l")
    assert after.epoch != before.epoch and after.offset == 1
    assert await bus.since("learner:l", before) is None


def meta() -> SessionMeta:
    return SessionMeta(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "Read")


@pytest.fixture
async def hub(bus: EventBus) -> AsyncIterator[Hub]:
    made = Hub(bus=bus, presence=MemoryPresence(), settings=SETTINGS, node_id="n1")
    await made.start()
    try:
        yield made
    finally:
        await made.aclose()


async def test_hub_delivers_live_events_in_order_on_every_view(hub: Hub) -> None:
    session = meta()
    by_session, by_course = Collector(), Collector()
    await hub.subscribe(f"session:{session.session_id}", by_session)
    await hub.subscribe(f"course:{session.course_id}", by_course)
    hub.publish(session, SessionStarted(exercise_title="Read", started_at="2026-01-01T00:00:00"))
    for ms in (100, 200, 300):
        hub.publish(session, InterimTranscript(committed="a", tentative="b", audio_ms=ms))
    await by_session.wait_for(4)
    await by_course.wait_for(4)
    for seen in (by_session, by_course):
        assert [e.offset for e in seen.events] == [1, 2, 3, 4]
        kinds = [json.loads(e.data)["message"]["type"] for e in seen.events]
        assert kinds == ["session_started", *["interim_transcript"] * 3]
        body = json.loads(seen.events[1].data)
        assert body["learner_id"] == str(session.learner_id) and body["node"] == "n1"
        assert body["message"]["audio_ms"] == 100
    assert [s.session_id for s in hub.local_live()] == [session.session_id]
    assert hub.local_live()[0].audio_ms == 300


async def test_resubscribing_with_a_position_replays_then_continues(
    hub: Hub, bus: EventBus
) -> None:
    first = Collector()
    await hub.subscribe("course:c", first)
    await publish(bus, "course:c", 1, 2)
    await first.wait_for(2)
    last = first.events[-1]
    await hub.unsubscribe("course:c", first)
    await publish(bus, "course:c", 3, 4)

    again = Collector()
    assert last.offset is not None and last.epoch is not None
    await hub.subscribe("course:c", again, Position(last.offset, last.epoch))
    await publish(bus, "course:c", 5)
    await again.wait_for(3)
    assert again.starts == [Position(2, last.epoch)]
    assert again.numbers() == [3, 4, 5] and [e.offset for e in again.events] == [3, 4, 5]


async def test_hub_refuses_partial_recovery(hub: Hub, bus: EventBus) -> None:
    await publish(bus, "course:d", *range(1, 9))
    epoch = (await bus.head("course:d")).epoch
    with pytest.raises(CannotRecover) as trimmed:
        await hub.subscribe("course:d", Collector(), Position(1, epoch))
    assert trimmed.value.reason == "history_trimmed"
    with pytest.raises(CannotRecover) as other:
        await hub.subscribe("course:d", Collector(), Position(1, "not-this-one"))
    assert other.value.reason == "epoch_changed"


async def test_hub_fills_a_gap_in_live_delivery_from_history(hub: Hub, bus: EventBus) -> None:
    seen = Collector()
    await hub.subscribe("session:g", seen)
    await publish(bus, "session:g", 1)
    await seen.wait_for(1)
    await bus.unlisten("session:g")  # live delivery misses the next two, as in an outage
    await publish(bus, "session:g", 2, 3)
    await bus.listen("session:g")
    await publish(bus, "session:g", 4)
    await seen.wait_for(4)
    assert seen.numbers() == [1, 2, 3, 4] and not seen.reloads


async def test_hub_gap_beyond_history_asks_to_reload(hub: Hub, bus: EventBus) -> None:
    seen = Collector()
    await hub.subscribe("session:h", seen)
    await bus.unlisten("session:h")
    await publish(bus, "session:h", *range(1, 9))
    await bus.listen("session:h")
    await publish(bus, "session:h", 9)
    await seen.wait_for(1)
    assert seen.reloads == ["history_trimmed"] and seen.events == []


async def test_publishing_never_waits_on_the_bus_or_subscribers(hub: Hub) -> None:
    session = meta()
    stuck = Collector()
    await hub.subscribe(f"session:{session.session_id}", stuck)
    # No await between publishes: the queue (10) takes what it can, the rest is dropped.
    for ms in range(100):
        hub.publish(session, InterimTranscript(committed="", tentative="x", audio_ms=ms))
    assert hub.dropped == 90
    await stuck.wait_for(10)
    assert [json.loads(e.data)["message"]["audio_ms"] for e in stuck.events] == list(range(10))


async def test_redis_bus_survives_an_outage_and_reports_it() -> None:
    with private_redis() as server:
        reconnects: list[int] = []
        bus = RedisBus(url=server.url, keys=Keys("p"), node_id="n1", settings=SETTINGS)
        bus.bind(lambda _envelope: None, lambda: reconnects.append(1))
        await bus.start()

        async def is_down() -> bool:
            return not bus.available

        async def is_up() -> bool:
            return bus.available

        try:
            await publish(bus, "session:o", 1)
            assert bus.available and reconnects == [1]
            server.stop()
            await eventually(is_down)
            with pytest.raises(BusUnavailable):
                await publish(bus, "session:o", 2)
            server.start()
            await eventually(is_up)
            assert reconnects == [1, 1]
            await publish(bus, "session:o", 3)
            head = await bus.head("session:o")
            assert head.offset == 1, "a Redis without persistence starts the channel afresh"
        finally:
            await bus.aclose()


async def test_a_burst_of_subscriptions_is_served_not_refused(hub: Hub, bus: EventBus) -> None:
    crowd = [Collector() for _ in range(300)]
    await asyncio.gather(*(hub.subscribe(f"course:{n % 7}", c) for n, c in enumerate(crowd)))
    assert all(len(c.starts) == 1 for c in crowd)
    await publish(bus, "course:3", 1)
    await asyncio.gather(*(c.wait_for(1) for n, c in enumerate(crowd) if n % 7 == 3))


async def test_a_bus_started_twice_stops_whole(prefix: str) -> None:
    """The hub starts its bus, and so may whoever made it: closing it must leave no
    subscriber loop behind (one would reconnect for ever)."""
    require("Redis", REDIS_URL)
    bus = RedisBus(url=REDIS_URL, keys=Keys(prefix), node_id="n1", settings=SETTINGS)
    bus.bind(lambda _envelope: None, lambda: None)
    await bus.start()
    await bus.start()
    await bus.aclose()
    loops = [t for t in asyncio.all_tasks() if "RedisBus._run" in repr(t.get_coro())]
    assert all(t.done() for t in loops)
