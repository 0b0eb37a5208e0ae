"""A node's local fan-out of channel events to its subscribers (observer sockets).

Each subscription tracks the last offset it delivered. A live event right after it is
delivered; an older one is a duplicate and skipped; a later one means live delivery missed
something (e.g. across a Redis reconnect), and the gap is read from the channel's history,
or, if that is gone, the subscriber is told to reload. So a subscriber sees every event of
a channel once, in order, or is told it cannot. Events the bus could not number (delivered
locally during an outage) are passed through as they come.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from realtime.bus import BusUnavailable, Envelope, EventBus, Position
from realtime.hub_settings import HubSettings

log = logging.getLogger("parley.hub")


class CannotRecover(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Subscriber(Protocol):
    """An observer as the hub sees it; every method must return at once."""

    def subscribed(self, channel: str, position: Position) -> None: ...

    def deliver(self, envelope: Envelope) -> None: ...

    def reload(self, channel: str, reason: str) -> None:
        """The subscription ended: events were lost and cannot be replayed."""
        ...


@dataclass(eq=False)
class _Subscription:
    subscriber: Subscriber
    offset: int = 0
    epoch: str = ""
    syncing: bool = True  # replaying history: live events wait in `held`
    dropped: bool = False
    held: list[Envelope] = field(default_factory=list)


class Fanout:
    def __init__(self, *, bus: EventBus, settings: HubSettings) -> None:
        self._bus = bus
        self._settings = settings
        self._subs: dict[str, dict[Subscriber, _Subscription]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def subscriptions(self) -> int:
        return sum(len(subs) for subs in self._subs.values())

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def subscribe(
        self, channel: str, subscriber: Subscriber, position: Position | None = None
    ) -> None:
        """Deliver the channel's events to `subscriber`: after `position` if given (raises
        `CannotRecover` when those are not all kept), else from now on. Raises
        `BusUnavailable` when the bus cannot be reached."""
        subs = self._subs.setdefault(channel, {})
        first = not subs
        sub = subs[subscriber] = _Subscription(subscriber)
        try:
            if first:
                await self._bus.listen(channel)
            if position is None:
                start, events = await self._bus.head(channel), []
            else:
                backlog = await self._bus.since(channel, position)
                if backlog is None:
                    head = await self._bus.head(channel)
                    same = head.epoch == position.epoch and position.offset <= head.offset
                    raise CannotRecover("history_trimmed" if same else "epoch_changed")
                start, events = position, backlog.events
        except BaseException:
            await self._forget(channel, sub)
            raise
        sub.offset, sub.epoch = start.offset, start.epoch
        subscriber.subscribed(channel, start)
        self._replay(channel, sub, events)

    async def unsubscribe(self, channel: str, subscriber: Subscriber) -> None:
        sub = self._subs.get(channel, {}).get(subscriber)
        if sub is not None:
            await self._forget(channel, sub)

    async def _forget(self, channel: str, sub: _Subscription) -> None:
        subs = self._subs.get(channel)
        if subs is None or subs.get(sub.subscriber) is not sub:
            return
        del subs[sub.subscriber]
        if not subs:
            del self._subs[channel]
            await self._bus.unlisten(channel)

    def dispatch(self, envelope: Envelope) -> None:
        for sub in list(self._subs.get(envelope.channel, {}).values()):
            try:
                self._feed(envelope.channel, sub, envelope)
            except Exception:  # one broken subscriber must not starve the others
                log.exception("delivering an event on %s failed", envelope.channel)

    def _feed(self, channel: str, sub: _Subscription, envelope: Envelope) -> None:
        if sub.dropped:
            return
        if sub.syncing:
            if len(sub.held) >= self._settings.stream_max_len:
                self._drop(channel, sub, "history_trimmed")
            else:
                sub.held.append(envelope)
            return
        if envelope.offset is None:  # delivered locally during an outage
            sub.subscriber.deliver(envelope)
        elif envelope.epoch != sub.epoch:
            self._drop(channel, sub, "epoch_changed")
        elif envelope.offset == sub.offset + 1:
            sub.offset = envelope.offset
            sub.subscriber.deliver(envelope)
        elif envelope.offset > sub.offset + 1:
            sub.syncing = True
            sub.held.append(envelope)
            self._spawn(self._catch_up(channel, sub))
        # else: already delivered

    def _replay(self, channel: str, sub: _Subscription, events: list[Envelope]) -> None:
        for envelope in events:
            if envelope.offset is not None and envelope.offset > sub.offset:
                sub.offset = envelope.offset
                sub.subscriber.deliver(envelope)
        held, sub.held, sub.syncing = sub.held, [], False
        for envelope in held:
            self._feed(channel, sub, envelope)

    async def _catch_up(self, channel: str, sub: _Subscription) -> None:
        reason = "unavailable"
        try:
            backlog = await self._bus.since(channel, Position(sub.offset, sub.epoch))
            if backlog is None:
                head = await self._bus.head(channel)
                reason = "history_trimmed" if head.epoch == sub.epoch else "epoch_changed"
        except BusUnavailable:
            backlog = None
        if self._subs.get(channel, {}).get(sub.subscriber) is not sub:
            return  # unsubscribed meanwhile
        if backlog is None:
            self._drop(channel, sub, reason)
        else:
            self._replay(channel, sub, backlog.events)

    def resync(self) -> None:
        """The bus came back: live delivery may have missed events; read them back."""
        for channel, subs in list(self._subs.items()):
            for sub in list(subs.values()):
                if not sub.syncing:
                    sub.syncing = True
                    self._spawn(self._catch_up(channel, sub))

    def _drop(self, channel: str, sub: _Subscription, reason: str) -> None:
        if sub.dropped:
            return
        sub.dropped = True
        self._spawn(self._forget(channel, sub))
        sub.subscriber.reload(channel, reason)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
