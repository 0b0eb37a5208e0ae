"""One Redis pub/sub connection, kept alive: the loop the hub's bus and the hand-off channel
share.

It subscribes to `channels()` on every (re)connect, hands each message to `on_message`,
pings an idle connection (a dead one shows only on use), and reconnects with exponential
backoff whatever broke. `start` waits briefly for the first connection but returns without
Redis (the node runs degraded), and starts one loop only: a second would outlive `aclose`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from realtime.cancelling import reraise_if_cancelled

log = logging.getLogger("parley.redis")


class Subscriber:
    def __init__(
        self,
        redis: Redis,
        *,
        name: str,
        channels: Callable[[], Sequence[str]],
        on_message: Callable[[dict[str, Any]], None],
        on_up: Callable[[bool], Awaitable[None]] | None = None,
        on_down: Callable[[BaseException, bool], None] | None = None,
        ping_s: float,
        ready_timeout_s: float = 2.0,
        reconnect_max_s: float = 2.0,
    ) -> None:
        """`on_up(again)`: after each (re)subscription, with `pubsub` live (`again`: not
        the first); it may check the connection further and raise, which counts as a lost
        connection. `on_down(exc, news)`: the connection was lost or could not be made;
        `news` is False while it merely stays down. An idle connection is pinged every
        `ping_s`."""
        self._redis = redis
        self._name = name
        self._channels = channels
        self._on_message = on_message
        self._on_up = on_up
        self._on_down = on_down
        self._ping_s = ping_s
        self._ready_timeout_s = ready_timeout_s
        self._reconnect_max_s = reconnect_max_s
        self._task: asyncio.Task[None] | None = None
        self.pubsub: PubSub | None = None  # the live connection, while up
        self.up = False

    async def start(self) -> None:
        if self._task is not None and not self._task.done():
            return
        ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(ready), name=f"redis-{self._name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(ready), self._ready_timeout_s)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, ready: asyncio.Future[None]) -> None:
        delay = 0.05
        connected_before = False
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(*self._channels())
                self.pubsub, self.up, delay = pubsub, True, 0.05
                if self._on_up is not None:
                    await self._on_up(connected_before)
                connected_before = True
                if not ready.done():
                    ready.set_result(None)
                while True:
                    message = await pubsub.get_message(timeout=self._ping_s)
                    if message is None:
                        await pubsub.ping()
                    else:
                        self._on_message(message)
            except Exception as exc:  # whatever broke, the loop must live on and reconnect
                reraise_if_cancelled(exc)
                was_up = self.up
                self.pubsub, self.up = None, False
                if self._on_down is not None:
                    self._on_down(exc, was_up or not connected_before)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max_s)
