"""One live session's link to the session store: its audio log and its lease.

Accepted audio is queued here and appended in order by one writer task (several frames
that arrive during a write go in the next one). `durable_bytes` is what the store holds;
the session reports that, never more, so "acknowledged" means "survives this node".

Outages: while the store is unreachable the session keeps running on this node; the
queue (bounded by the session's audio limit) waits and is written when the store is back,
so `durable_bytes` stalls and then catches up. If the session's state is gone from the
store (Redis lost its data), durability ends for the session: `active` turns False and the
session reports what it holds in memory, as a node without Redis does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from realtime.cancelling import reraise_if_cancelled
from realtime.lease import LeaseKeeper
from realtime.session_store import AppendResult, SessionStore

log = logging.getLogger("parley.durable")

_RETRY_FIRST_S = 0.1
_RETRY_MAX_S = 2.0
# A write that takes longer counts as failed and is retried (if it landed after all, the
# retry finds the log longer than expected and durability ends for the session: safe).
_WRITE_TIMEOUT_S = 5.0
# A hand-off waits for the release: the asking node gives up after a few seconds.
_RELEASE_TIMEOUT_S = 1.0


class DurableLog:
    def __init__(
        self,
        *,
        store: SessionStore,
        session_id: uuid.UUID,
        owner: str,
        lease_ms: int,
        durable_bytes: int = 0,
    ) -> None:
        """`owner` names this session instance (node and a random part), the lease holder;
        `durable_bytes`: what the store already holds (a resumed session's log)."""
        self.session_id = session_id
        self.owner = owner
        self.durable_bytes = durable_bytes
        self.active = True
        self.closed = asyncio.Event()
        self._store = store
        self._lease_ms = lease_ms
        self._pending = bytearray()
        self._wake = asyncio.Event()
        self._settled = asyncio.Event()
        self._settled.set()
        self._tasks: list[asyncio.Task[Any]] = []
        self._on_lost: Callable[[], None] = lambda: None
        self._on_progress: Callable[[int], None] = lambda _: None

    def start(self, *, on_lost: Callable[[], None], on_progress: Callable[[int], None]) -> None:
        """Run the writer and the lease keeper. `on_lost`: another owner took the session;
        `on_progress(durable_bytes)` after each write."""
        self._on_lost, self._on_progress = on_lost, on_progress
        keeper = LeaseKeeper(
            name=str(self.session_id),
            renew=lambda: self._store.renew(self.session_id, self.owner, self._lease_ms),
            lease_ms=self._lease_ms,
            on_lost=self._lost,
            on_gone=self._gone,
        )
        self._tasks = [asyncio.create_task(self._write()), asyncio.create_task(keeper.run())]

    def append(self, data: bytes) -> None:
        if not self.active or not data:
            return
        self._pending += data
        self._settled.clear()
        self._wake.set()

    async def flush(self, timeout_s: float) -> bool:
        """Wait (at most `timeout_s`) until everything appended is durable."""
        if not self.active:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._settled.wait()
                return True
        return False

    def stopped(self) -> None:
        """The client asked for the final: a node resuming the session finishes it at once."""
        if self.active:
            self._tasks.append(asyncio.create_task(self._mark_stopped()))

    async def close(self, *, delete: bool) -> None:
        """Stop writing and renewing; `delete`: the session ended, remove it from the store
        (only while this owner holds it; failures are logged and left to the key TTL)."""
        self.active = False
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if delete:
            try:
                await self._store.delete(self.session_id, self.owner)
            except Exception as exc:
                log.warning("removing session %s from the store failed: %s", self.session_id, exc)
        self.closed.set()

    async def release(self) -> bool:
        """After `close`: give up the lease (the session stays in the store for the node
        that continues it). False if it was not this owner's, or the store did not answer."""
        try:
            async with asyncio.timeout(_RELEASE_TIMEOUT_S):
                return await self._store.release(self.session_id, self.owner)
        except Exception as exc:
            log.warning("releasing session %s failed: %r", self.session_id, exc)
            return False

    async def _mark_stopped(self) -> None:
        try:
            await self._store.mark_stopped(self.session_id, self.owner)
        except Exception as exc:
            log.warning("marking session %s stopped failed: %s", self.session_id, exc)

    async def _write(self) -> None:
        delay = _RETRY_FIRST_S
        failing = False
        while self.active:
            await self._wake.wait()
            self._wake.clear()
            while self._pending and self.active:
                data = bytes(self._pending)
                try:
                    async with asyncio.timeout(_WRITE_TIMEOUT_S):
                        result = await self._store.append(
                            self.session_id, self.owner, self.durable_bytes, data
                        )
                        if result == AppendResult.NOT_OWNER:
                            result = await self._retake(data)
                except Exception as exc:
                    reraise_if_cancelled(exc)
                    if not failing:
                        log.warning(
                            "session %s: audio not durable (retrying): %r", self.session_id, exc
                        )
                    failing = True
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, _RETRY_MAX_S)
                    continue
                if failing:
                    log.info("session %s: audio durable again", self.session_id)
                    failing, delay = False, _RETRY_FIRST_S
                if result == AppendResult.MISMATCH:
                    self._gone()  # the log is not where this owner left it: trust it no more
                if result < 0:
                    return
                del self._pending[: len(data)]
                self.durable_bytes = result
                self._on_progress(result)
            if not self._pending:
                self._settled.set()

    async def _retake(self, data: bytes) -> int:
        """The lease lapsed (a store outage longer than its TTL) or another owner holds it."""
        held = await self._store.renew(self.session_id, self.owner, self._lease_ms)
        if held is None:
            return AppendResult.MISMATCH
        if not held:
            self._lost()
            return AppendResult.NOT_OWNER
        return await self._store.append(self.session_id, self.owner, self.durable_bytes, data)

    def _lost(self) -> None:
        if not self.active:
            return
        self.active = False
        self._settled.set()
        self._on_lost()

    def _gone(self) -> None:
        if not self.active:
            return
        log.warning("session %s: state gone from the store; no longer durable", self.session_id)
        self.active = False
        self._pending.clear()
        self._settled.set()
