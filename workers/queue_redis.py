"""The rescoring queue on a Redis stream with one consumer group shared by every worker.

Delivery: XREADGROUP hands each new entry to one consumer; it stays in the group's pending
list until XACK. Every acknowledged entry is deleted from the stream at once (XACK and XDEL
in one MULTI), so the stream holds only work not yet done and needs no other trimming.

Dead workers: a worker renews each task it holds every `reclaim_idle_s / 3` (XCLAIM to
itself with JUSTID, which resets the entry's idle time without counting a delivery). An
entry idle for `reclaim_idle_s` therefore belongs to a worker that died or hung, and the
next `receive` of any worker takes it over with XAUTOCLAIM, which counts a delivery. A long
task is never stolen from a live worker, and the idle time can stay short.

Attempts: the entry's delivery count (from XPENDING) plus the failures carried in its
fields (a failed attempt re-queues the task as a new entry with `failures + 1`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from storage.redis_keys import Keys
from workers.queue import DeadTask, Delivery, Task
from workers.settings import WorkerSettings

DEAD_MAXLEN = 100_000


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(raw: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}


class RedisTaskQueue:
    def __init__(self, redis: Redis, keys: Keys, settings: WorkerSettings) -> None:
        self._redis = redis
        self._stream = keys.rescore_stream()
        self._group = keys.rescore_group()
        self._dead = keys.rescore_dead()
        self._idle_ms = int(settings.reclaim_idle_s * 1000)
        self._block_ms = int(settings.block_s * 1000)
        self._group_ready = False
        self._cursor = "0-0"

    async def ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._redis.xgroup_create(self._stream, self._group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def enqueue(self, tasks: Sequence[Task]) -> None:
        await self.ensure_group()
        async with self._redis.pipeline(transaction=False) as pipe:
            for task in tasks:
                pipe.xadd(self._stream, task.fields())  # type: ignore[arg-type]
            await pipe.execute()

    async def receive(self, consumer: str) -> Delivery | None:
        await self.ensure_group()
        try:
            return await self._reclaim(consumer) or await self._read(consumer)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream was deleted (Redis flushed or restarted empty): start over.
            self._group_ready = False
            return None

    async def _reclaim(self, consumer: str) -> Delivery | None:
        # XAUTOCLAIM looks at a few pending entries per call (10 x COUNT); resuming from its
        # cursor lets successive calls cover the whole pending list, so a dead worker's
        # entry is found even behind many entries that live workers hold.
        reply = await self._redis.xautoclaim(
            self._stream, self._group, consumer, self._idle_ms, start_id=self._cursor, count=1
        )
        self._cursor = _text(reply[0])
        entries = reply[1]
        if not entries:
            return None
        entry_id, raw = entries[0]
        pending = await self._redis.xpending_range(
            self._stream, self._group, min=entry_id, max=entry_id, count=1
        )
        deliveries = int(pending[0]["times_delivered"]) if pending else 2
        task = Task.from_fields(_fields(raw))
        return Delivery(_text(entry_id), task, task.failures + deliveries)

    async def _read(self, consumer: str) -> Delivery | None:
        # RESP2 shape: [[stream, [(id, fields)]]] (the client is made without protocol=3).
        reply: Any = await self._redis.xreadgroup(
            self._group, consumer, {self._stream: ">"}, count=1, block=self._block_ms
        )
        if not reply:
            return None
        entry_id, raw = reply[0][1][0]
        task = Task.from_fields(_fields(raw))
        return Delivery(_text(entry_id), task, task.failures + 1)

    async def keepalive(self, delivery: Delivery, consumer: str) -> None:
        await self._redis.xclaim(self._stream, self._group, consumer, 0, [delivery.id], justid=True)

    async def _finish(self, delivery: Delivery, add: tuple[str, dict[str, str]] | None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            if add is not None:
                name, fields = add
                maxlen = DEAD_MAXLEN if name == self._dead else None
                pipe.xadd(name, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
            pipe.xack(self._stream, self._group, delivery.id)
            pipe.xdel(self._stream, delivery.id)
            await pipe.execute()

    async def ack(self, delivery: Delivery) -> None:
        await self._finish(delivery, None)

    async def retry(self, delivery: Delivery) -> None:
        task = delivery.task
        again = Task(task.job_id, task.session_id, failures=delivery.attempt)
        await self._finish(delivery, (self._stream, again.fields()))

    async def release(self, delivery: Delivery) -> None:
        task = delivery.task
        back = Task(task.job_id, task.session_id, failures=delivery.attempt - 1)
        await self._finish(delivery, (self._stream, back.fields()))

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        fields = delivery.task.fields() | {
            "error": error,
            "attempts": str(delivery.attempt),
            "at": str(int(time.time())),
        }
        await self._finish(delivery, (self._dead, fields))

    async def dead(self, limit: int = 100) -> list[DeadTask]:
        entries: Any = await self._redis.xrange(self._dead, count=limit)
        out = []
        for _, raw in entries:
            fields = _fields(raw)
            out.append(DeadTask(Task.from_fields(fields), fields["error"], int(fields["attempts"])))
        return out

    async def retire(self, consumer: str) -> bool:
        """Remove a stopped consumer from the group (names are per process, so they would
        pile up); kept while it still holds entries, which must stay claimable."""
        held = await self._redis.xpending_range(
            self._stream, self._group, min="-", max="+", count=1, consumername=consumer
        )
        if held:
            return False
        await self._redis.xgroup_delconsumer(self._stream, self._group, consumer)
        return True

    async def pending(self) -> int:
        return int(await self._redis.xlen(self._stream))
