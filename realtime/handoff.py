"""Live hand-off of sessions between nodes, over one Redis pub/sub control channel per node.

A node that gets a valid resume for a session whose lease another live node holds asks
that node (the lease value names it) to hand the session over, on the holder's channel
(`Keys.node_control`):

    {"handoff": "<session id>", "request_id": "<hex>", "reply_to": "<asking node>"}

The holder makes the session's audio durable, stops it and releases the lease, or refuses
(the session is past streaming, or its audio cannot be made durable now), and answers on
the asker's channel:

    {"reply": "<request id>", "released": true | false}

No answer in time counts as a refusal: the asker then answers `session_busy`, as it does
without a hand-off. The subscription reconnects (with backoff) when Redis comes back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from realtime.subscriber import Subscriber
from storage.redis_keys import Keys

log = logging.getLogger("parley.handoff")

HandOver = Callable[[uuid.UUID], Awaitable[bool]]

# A subscriber connection idle this long is pinged: a broken one shows only on use.
PING_EVERY_S = 1.0
RECONNECT_MAX_S = 2.0
REDIS_TIMEOUT_S = 2.0


class HandoffChannel:
    def __init__(self, *, redis: Redis, keys: Keys, node_id: str) -> None:
        """`redis`: the app's client (this channel opens its own subscriber connection
        from its pool, and publishes through it)."""
        self._redis = redis
        self._keys = keys
        self.node_id = node_id
        self._hand_over: HandOver = _refuse
        self._replies: dict[str, asyncio.Future[bool]] = {}
        self._work: set[asyncio.Task[None]] = set()
        self._subscriber = Subscriber(
            redis,
            name="handoff",
            channels=lambda: [keys.node_control(node_id)],
            on_message=self._message,
            on_down=self._down,
            ping_s=PING_EVERY_S,
            ready_timeout_s=REDIS_TIMEOUT_S,
            reconnect_max_s=RECONNECT_MAX_S,
        )

    def bind(self, hand_over: HandOver) -> None:
        """`hand_over(session_id)`: True once this node released the session's lease."""
        self._hand_over = hand_over

    async def start(self) -> None:
        """Subscribe; waits briefly for the first connection, starts anyway without Redis."""
        await self._subscriber.start()

    async def aclose(self) -> None:
        await self._subscriber.aclose()
        tasks = list(self._work)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for waiter in self._replies.values():
            if not waiter.done():
                waiter.set_result(False)

    async def request(self, node: str, session_id: uuid.UUID, timeout_s: float) -> bool:
        """Ask `node` to hand `session_id` over; True once it released the lease. False if
        it refused, does not listen (dead, or without hand-off) or did not answer in time."""
        if not self._subscriber.up:
            return False  # its answer could not reach this node
        request_id = uuid.uuid4().hex
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = waiter
        body = {"handoff": str(session_id), "request_id": request_id, "reply_to": self.node_id}
        try:
            async with asyncio.timeout(timeout_s):
                listeners = await self._redis.publish(
                    self._keys.node_control(node), json.dumps(body)
                )
                if listeners == 0:
                    return False
                return await waiter
        except TimeoutError:
            log.warning("node %s did not hand session %s over in time", node, session_id)
            return False
        except Exception as exc:
            log.warning("asking node %s for session %s failed: %r", node, session_id, exc)
            return False
        finally:
            self._replies.pop(request_id, None)

    async def _answer(self, session_id: uuid.UUID, request_id: str, reply_to: str) -> None:
        try:
            released = await self._hand_over(session_id)
        except Exception:
            log.exception("handing session %s over failed", session_id)
            released = False
        body = {"reply": request_id, "released": released}
        try:
            async with asyncio.timeout(REDIS_TIMEOUT_S):
                await self._redis.publish(self._keys.node_control(reply_to), json.dumps(body))
        except Exception as exc:
            # The asker times out and answers `session_busy`; a released lease is free anyway.
            log.warning("answering the hand-off of session %s failed: %r", session_id, exc)

    def _handle(self, data: Any) -> None:
        try:
            body = json.loads(data)
            if "reply" in body:
                waiter = self._replies.get(str(body["reply"]))
                if waiter is not None and not waiter.done():
                    waiter.set_result(body["released"] is True)
            elif "handoff" in body:
                work = self._answer(
                    uuid.UUID(body["handoff"]), str(body["request_id"]), str(body["reply_to"])
                )
                task = asyncio.create_task(work)
                self._work.add(task)
                task.add_done_callback(self._work.discard)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignored a malformed control message: %r", exc)

    def _message(self, message: dict[str, Any]) -> None:
        if message.get("type") == "message":
            self._handle(message["data"])

    def _down(self, exc: BaseException, news: bool) -> None:
        if news:
            log.warning("hand-off channel lost (%r); reconnecting", exc)


async def _refuse(_session_id: uuid.UUID) -> bool:
    return False
