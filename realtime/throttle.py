"""Rate limits shared by the REST routes and the websocket endpoints, through `limits`.

Counts live in Redis when the node has it (every node sees one count per key), in memory
otherwise. A limit is a `limits` string such as "10/minute". Should Redis fail, requests are
let through (logged once per outage): throttling guards capacity, and refusing every sign-in
while Redis is away would turn a degraded hub into an outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool

log = logging.getLogger("parley.throttle")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over its limit: which rule, and when to try again."""

    rule: str
    retry_after_s: int


def parse_limit(text: str) -> RateLimitItem:
    """The limit a setting names; ValueError (a settings error at start-up) if malformed."""
    return parse(text)


class Throttle:
    def __init__(
        self, storage: Storage, *, enabled: bool = True, pool: ConnectionPool | None = None
    ) -> None:
        self._pool = pool
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._storage = storage
        self._enabled = enabled
        self._failing = False

    @classmethod
    def create(cls, redis_url: str | None, *, prefix: str, enabled: bool) -> Throttle:
        if not redis_url:
            return cls(MemoryStorage(), enabled=enabled)
        # Our own pool, so that `aclose` can release it (limits keeps no handle to close);
        # redis-py is the client the rest of Parley uses (limits defaults to coredis).
        pool = ConnectionPool.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{prefix}:limits",
            wrap_exceptions=True,
            connection_pool=pool,  # type: ignore[arg-type]  # typed as scalars, passed through
        )
        return cls(storage, enabled=enabled, pool=pool)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def hit(self, rule: str, limit: RateLimitItem, *key: str) -> Refusal | None:
        """Counts one request of `key` under `rule`; a Refusal when it is over `limit`."""
        if not self._enabled:
            return None
        try:
            if await self._limiter.hit(limit, rule, *key):
                self._recovered()
                return None
            stats = await self._limiter.get_window_stats(limit, rule, *key)
        except StorageError as exc:
            if not self._failing:
                log.warning("rate limits unavailable, letting requests through: %r", exc)
            self._failing = True
            return None
        self._recovered()
        return Refusal(rule, max(1, int(stats.reset_time - time.time() + 0.999)))

    def _recovered(self) -> None:
        if self._failing:
            log.info("rate limits available again")
        self._failing = False


class FrameRate:
    """Messages one socket may send in a window (`limit`, e.g. 100/second): counted in
    memory, since a socket lives on one node; a fixed window is enough to stop a flood."""

    def __init__(self, limit: RateLimitItem, clock: Callable[[], float] = time.monotonic) -> None:
        self._amount = limit.amount
        self._window_s = float(limit.get_expiry())
        self._clock = clock
        self._start = clock()
        self._count = 0

    def allow(self) -> bool:
        now = self._clock()
        if now - self._start >= self._window_s:
            self._start, self._count = now, 0
        self._count += 1
        return self._count <= self._amount
