"""Results the database could not take during an outage, kept on disk until it can.

A finished session's final (and its feedback, or its failure) is a record here when the
database is unreachable; the records are applied in the order they were made once it answers
again, by this process or, if it stops first, by the next one on the same data folder. So a
learner's result is never lost to an outage, and a session is never stored half: each record
is applied in one transaction. A record the database refuses for another reason (a bug) is
set aside in `rejected/` with a log line, never retried forever nor deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from storage.outage import is_outage

log = logging.getLogger("parley.pending")

Record = dict[str, Any]
RETRY_S = 5.0


class PendingWrites:
    def __init__(
        self, root: Path, apply: Callable[[Record], Awaitable[None]], *, retry_s: float = RETRY_S
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self._apply = apply
        self._retry_s = retry_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._sessions: dict[str, int] = {}  # session id -> records waiting
        for path in self._files():
            self._count(path, +1)

    def _files(self) -> list[Path]:
        return sorted(self.root.glob("*.json"))

    def _count(self, path: Path, step: int) -> None:
        session = path.stem.rpartition("-")[2]
        left = self._sessions.get(session, 0) + step
        if left > 0:
            self._sessions[session] = left
        else:
            self._sessions.pop(session, None)

    def __len__(self) -> int:
        return sum(self._sessions.values())

    def waiting(self, session_id: uuid.UUID) -> bool:
        """A record of this session waits: its later writes must queue behind it."""
        return session_id.hex in self._sessions

    async def add(self, session_id: uuid.UUID, record: Record) -> None:
        path = self.root / f"{time.time_ns():020d}-{session_id.hex}.json"
        await asyncio.to_thread(_write_atomically, path, record)
        self._count(path, +1)
        log.warning("database unavailable: %s of session %s kept", record["kind"], session_id)
        self._wake.set()

    async def flush(self) -> bool:
        """Apply what waits, in order; False if the database is still away."""
        for path in self._files():
            record = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
            try:
                await self._apply(record)
            except Exception as exc:
                if is_outage(exc):
                    return False
                log.error("a kept %s was refused; set aside: %r", record.get("kind"), exc)
                rejected = self.root / "rejected"
                rejected.mkdir(exist_ok=True)
                path.replace(rejected / path.name)
            else:
                path.unlink(missing_ok=True)
                log.info("kept %s of %s stored", record.get("kind"), record.get("session_id"))
            self._count(path, -1)
        return True

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            if self._files() and not await self.flush():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._retry_s)
                self._wake.clear()
                continue
            await self._wake.wait()
            self._wake.clear()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _write_atomically(path: Path, record: Record) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
