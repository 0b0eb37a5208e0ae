"""The Redis event bus: one Lua script numbers, keeps and publishes each event.

Per channel: a hash {epoch, offset}, a stream capped at `stream_max_len` whose entry ids
are `<offset>-0` (so a range read starts exactly after an offset), and a pub/sub channel.
One subscriber connection per node listens to the channels its observers want; when it
breaks, publishing fails fast (the hub then delivers locally) and a loop reconnects with
backoff, re-subscribes and tells the hub, which re-reads what live delivery missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from realtime.bus import (
    Backlog,
    BusUnavailable,
    Envelope,
    OnEnvelope,
    OnReconnect,
    Position,
    complete,
    new_epoch,
)
from realtime.hub_settings import HubSettings
from realtime.subscriber import Subscriber
from storage.redis_keys import Keys

log = logging.getLogger("parley.hub")

# A channel without its hash lost its history: start a new epoch (and drop any stream left).
_ENSURE = """
local function ensure(meta, stream, fresh, ttl)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = fresh
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'epoch', epoch, 'offset', 0)
    redis.call('EXPIRE', meta, ttl)
  end
  return epoch
end
"""

# KEYS: meta, stream per channel. ARGV: data, maxlen, ttl, fresh epoch, then live, name.
PUBLISH = (
    _ENSURE
    + """
local data, maxlen, ttl, fresh = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for i = 1, #KEYS / 2 do
  local meta, stream = KEYS[2 * i - 1], KEYS[2 * i]
  local epoch = ensure(meta, stream, fresh, ttl)
  local offset = redis.call('HINCRBY', meta, 'offset', 1)
  redis.call('XADD', stream, 'MAXLEN', maxlen, offset .. '-0', 'd', data)
  redis.call('EXPIRE', meta, ttl)
  redis.call('EXPIRE', stream, ttl)
  redis.call('PUBLISH', ARGV[3 + 2 * i], ARGV[4 + 2 * i] .. '\\n' .. offset .. '\\n' .. epoch
    .. '\\n' .. data)
end
return #KEYS / 2
"""
)

# KEYS: meta, stream. ARGV: fresh epoch, ttl, after (-1: head only).
READ = (
    _ENSURE
    + """
local epoch = ensure(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset'))
local after = tonumber(ARGV[3])
local entries = {}
if after >= 0 and after < offset then
  entries = redis.call('XRANGE', KEYS[2], (after + 1) .. '-0', '+')
end
return {epoch, offset, entries}
"""
)

PING_EVERY_S = 1.0


class RedisBus:
    def __init__(self, *, url: str, keys: Keys, node_id: str, settings: HubSettings) -> None:
        self._keys = keys
        self._node_id = node_id
        self._settings = settings
        # No silent retries: a failure must reach the hub, which falls back and re-syncs.
        # A bounded pool that makes a burst of commands (many observers subscribing at once)
        # wait for a connection, rather than open one each or fail.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=settings.redis_connections,
            timeout=settings.redis_timeout_s,
            decode_responses=True,
            socket_timeout=settings.redis_timeout_s,
            socket_connect_timeout=settings.redis_timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        self.redis: Redis = Redis.from_pool(pool)  # closes the pool with the client
        self._publish = self.redis.register_script(PUBLISH)
        self._read = self.redis.register_script(READ)
        self._listened: set[str] = set()
        self._pending: dict[str, list[asyncio.Future[None]]] = {}
        self._subscriber = Subscriber(
            self.redis,
            name="hub",
            channels=lambda: [
                self._keys.hub_node(self._node_id),
                *(self._keys.hub_live(c) for c in self._listened),
            ],
            on_message=self._handle,
            on_up=self._connected,
            on_down=self._lost,
            ping_s=PING_EVERY_S,
            ready_timeout_s=settings.redis_timeout_s,
            reconnect_max_s=settings.reconnect_max_s,
        )
        self._on_envelope: OnEnvelope = lambda _envelope: None
        self._on_reconnect: OnReconnect = lambda: None

    @property
    def available(self) -> bool:
        return self._subscriber.up

    def bind(self, on_envelope: OnEnvelope, on_reconnect: OnReconnect) -> None:
        self._on_envelope = on_envelope
        self._on_reconnect = on_reconnect

    async def start(self) -> None:
        # Waits for the first connection, but starts (degraded) when Redis is down.
        await self._subscriber.start()

    async def aclose(self) -> None:
        await self._subscriber.aclose()
        await self.redis.aclose()

    async def publish(self, channels: Sequence[str], data: str) -> None:
        await self.publish_batch([(channels, data)])

    async def publish_batch(self, batch: Sequence[tuple[Sequence[str], str]]) -> None:
        if not self._subscriber.up:
            raise BusUnavailable("redis is unavailable")
        calls = [self._call(channels, data) for channels, data in batch]
        try:
            if len(calls) == 1:  # the usual case: no pipeline to set up
                await self._publish(keys=calls[0][0], args=calls[0][1])
                return
            async with self.redis.pipeline(transaction=False) as pipe:
                for keys, args in calls:
                    await self._publish(keys=keys, args=args, client=pipe)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            raise BusUnavailable(str(exc)) from exc

    def _call(self, channels: Sequence[str], data: str) -> tuple[list[str], list[str | int]]:
        """KEYS and ARGV of the publish script."""
        keys: list[str] = []
        args: list[str | int] = [data, self._settings.stream_max_len]
        args += [self._settings.retention_s, new_epoch()]
        for name in channels:
            keys += [self._keys.hub_meta(name), self._keys.hub_stream(name)]
            args += [self._keys.hub_live(name), name]
        return keys, args

    async def _fetch(self, channel: str, after: int) -> tuple[Position, list[Envelope]]:
        keys = [self._keys.hub_meta(channel), self._keys.hub_stream(channel)]
        try:
            reply: Any = await self._read(
                keys=keys, args=[new_epoch(), self._settings.retention_s, after]
            )
        except (RedisError, OSError) as exc:
            raise BusUnavailable(str(exc)) from exc
        epoch, offset, entries = str(reply[0]), int(reply[1]), reply[2]
        events = [
            Envelope(channel, int(str(entry_id).split("-")[0]), epoch, str(fields[1]))
            for entry_id, fields in entries
        ]
        return Position(offset, epoch), events

    async def head(self, channel: str) -> Position:
        head, _ = await self._fetch(channel, -1)
        return head

    async def since(self, channel: str, position: Position) -> Backlog | None:
        head, events = await self._fetch(channel, position.offset)
        return complete(position, head, events)

    async def listen(self, channel: str) -> None:
        self._listened.add(channel)
        pubsub = self._subscriber.pubsub
        if pubsub is None:
            return  # subscribed on reconnect; the hub re-syncs then
        live = self._keys.hub_live(channel)
        confirmed = asyncio.get_running_loop().create_future()
        self._pending.setdefault(live, []).append(confirmed)
        try:
            await pubsub.subscribe(live)
            # Only once Redis confirms are the channel's next events sure to arrive here.
            await asyncio.wait_for(confirmed, self._settings.redis_timeout_s)
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("subscribing to %s failed: %s", channel, exc)

    async def unlisten(self, channel: str) -> None:
        self._listened.discard(channel)
        pubsub = self._subscriber.pubsub
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe(self._keys.hub_live(channel))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "message":
            name, offset, epoch, data = str(message["data"]).split("\n", 3)
            self._on_envelope(Envelope(name, int(offset), epoch, data))
        elif kind == "subscribe":
            for waiter in self._pending.pop(str(message["channel"]), []):
                if not waiter.done():
                    waiter.set_result(None)

    async def _connected(self, again: bool) -> None:
        await self.redis.ping()
        if again:
            log.warning("redis is back: re-subscribed to %d channels", len(self._listened))
        self._on_reconnect()

    def _lost(self, exc: BaseException, news: bool) -> None:
        if not isinstance(exc, RedisError | OSError):
            log.error("the hub's subscriber connection failed", exc_info=exc)
        elif news:
            log.warning("redis unavailable (%s); delivering events locally only", exc)
        for waiters in self._pending.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        self._pending.clear()
