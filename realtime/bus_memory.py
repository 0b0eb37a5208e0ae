"""The in-memory event bus of a single process (the embedded default, no Redis)."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Sequence

from realtime.bus import (
    Backlog,
    Envelope,
    OnEnvelope,
    OnReconnect,
    Position,
    complete,
    new_epoch,
)


class _Channel:
    def __init__(self, max_len: int) -> None:
        self.epoch = new_epoch()
        self.offset = 0
        self.history: deque[Envelope] = deque(maxlen=max_len)


class MemoryBus:
    def __init__(self, *, max_len: int, max_channels: int) -> None:
        """`max_len` events kept per channel; the `max_channels` most recently used channels
        are kept (a forgotten one starts a new epoch)."""
        self._max_len = max_len
        self._max_channels = max_channels
        self._channels: OrderedDict[str, _Channel] = OrderedDict()
        self._listened: set[str] = set()
        self._on_envelope: OnEnvelope = lambda _envelope: None

    @property
    def available(self) -> bool:
        return True

    def bind(self, on_envelope: OnEnvelope, on_reconnect: OnReconnect) -> None:
        self._on_envelope = on_envelope

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    def _channel(self, name: str) -> _Channel:
        channel = self._channels.get(name)
        if channel is None:
            channel = self._channels[name] = _Channel(self._max_len)
            while len(self._channels) > self._max_channels:
                self._channels.popitem(last=False)
        else:
            self._channels.move_to_end(name)
        return channel

    async def publish(self, channels: Sequence[str], data: str) -> None:
        for name in channels:
            channel = self._channel(name)
            channel.offset += 1
            envelope = Envelope(name, channel.offset, channel.epoch, data)
            channel.history.append(envelope)
            if name in self._listened:
                self._on_envelope(envelope)

    async def publish_batch(self, batch: Sequence[tuple[Sequence[str], str]]) -> None:
        for channels, data in batch:
            await self.publish(channels, data)

    async def head(self, channel: str) -> Position:
        found = self._channel(channel)
        return Position(found.offset, found.epoch)

    async def since(self, channel: str, position: Position) -> Backlog | None:
        found = self._channel(channel)
        head = Position(found.offset, found.epoch)
        events = [e for e in found.history if e.offset is not None and e.offset > position.offset]
        return complete(position, head, events)

    async def listen(self, channel: str) -> None:
        self._listened.add(channel)

    async def unlisten(self, channel: str) -> None:
        self._listened.discard(channel)
