"""The event bus seam: numbered events per channel, kept for a while, delivered live.

Every channel (`session:<id>`, `learner:<id>`, `course:<id>`, `all:*`) has an epoch and an
offset. Each publish takes the next offset, keeps the event in the channel's bounded
history and delivers it live, in one atomic step; a channel whose history was lost (a
Redis flushed or restarted without persistence, an in-memory channel forgotten) starts a
new epoch. So {offset, epoch} names a point in a channel's history exactly, and an observer
that comes back with one gets every event it missed, or learns that it cannot.

Two implementations: `bus_memory.MemoryBus` (one process) and `bus_redis.RedisBus`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


class BusUnavailable(Exception):
    """The bus cannot be reached now (Redis down); the caller degrades to local delivery."""


@dataclass(frozen=True, slots=True)
class Position:
    offset: int  # the last event's offset; 0 before the first
    epoch: str


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event on one channel. `offset`/`epoch` are None for an event delivered only on
    this node while the bus was unavailable (it is not in any history)."""

    channel: str
    offset: int | None
    epoch: str | None
    data: str  # the event, JSON


@dataclass(frozen=True, slots=True)
class Backlog:
    """A channel's events after a position, and where the channel stands now."""

    head: Position
    events: list[Envelope]


def new_epoch() -> str:
    return secrets.token_hex(8)


OnEnvelope = Callable[[Envelope], None]
OnReconnect = Callable[[], None]


class EventBus(Protocol):
    """Live envelopes of listened channels are handed to the `bind` callback, in offset
    order per channel; `on_reconnect` runs after the bus came back from an outage (live
    delivery may have missed events meanwhile)."""

    @property
    def available(self) -> bool: ...

    def bind(self, on_envelope: OnEnvelope, on_reconnect: OnReconnect) -> None: ...

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...

    async def publish(self, channels: Sequence[str], data: str) -> None:
        """Append `data` to each channel, atomically; raises `BusUnavailable`."""
        ...

    async def publish_batch(self, batch: Sequence[tuple[Sequence[str], str]]) -> None:
        """`publish` each (channels, data) in order, in one round trip where possible."""
        ...

    async def head(self, channel: str) -> Position:
        """Where the channel stands (created, with a new epoch, if unknown)."""
        ...

    async def since(self, channel: str, position: Position) -> Backlog | None:
        """Every event after `position`, or None when that cannot be given whole (another
        epoch, or part of it trimmed away)."""
        ...

    async def listen(self, channel: str) -> None:
        """Start delivering the channel's events live; returns once that is in effect."""
        ...

    async def unlisten(self, channel: str) -> None: ...


def complete(position: Position, head: Position, events: list[Envelope]) -> Backlog | None:
    """`events` (oldest first) as the backlog after `position`, or None if any is missing."""
    if head.epoch != position.epoch or position.offset > head.offset:
        return None
    wanted = head.offset - position.offset
    if len(events) != wanted:
        return None
    if events and (events[0].offset != position.offset + 1 or events[-1].offset != head.offset):
        return None
    return Backlog(head, events)
