"""A node without Redis restarts: the sessions it was running are still on its disk.

Each is marked `resumable` at once (history never shows it in progress), and its learner
may reconnect with the resume token and continue it with every acknowledged byte, as a
learner on a cluster continues on another node. A session nobody resumes within the grace
period is failed, its audio stored with it so that a tutor can listen and rescoring can
score it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Protocol

from realtime.session_store_disk import DiskSessionStore
from speech.audio import decode_pcm16
from speech.ports import Samples
from storage.models import SessionStatus

log = logging.getLogger("parley.recovery")

FAILED_REASON = "the server stopped during the session and it was not resumed; its audio is kept"
_OWNER = "recovery"
_LEASE_MS = 60_000


class RecoveryRecorder(Protocol):
    async def interrupted(self, session_id: uuid.UUID) -> bool: ...

    async def ended(
        self, session_id: uuid.UUID, status: SessionStatus, reason: str, audio: Samples | None
    ) -> None: ...


class Leftovers:
    def __init__(
        self, *, store: DiskSessionStore, recorder: RecoveryRecorder, grace_s: float
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._grace_s = grace_s
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> list[uuid.UUID]:
        """Mark the previous process's sessions resumable; the ones kept (not ended in the
        database meanwhile) are failed after the grace period unless resumed."""
        kept: list[uuid.UUID] = []
        for session_id in self._store.session_ids():
            if await self._recorder.interrupted(session_id):
                kept.append(session_id)
            else:  # it had ended (stored) just before the stop: nothing to continue
                await self._store.delete(session_id, _OWNER)
        if kept:
            log.warning("%d sessions of a stopped server can be resumed", len(kept))
            self._task = asyncio.create_task(self._expire(kept))
        return kept

    async def _expire(self, session_ids: list[uuid.UUID]) -> None:
        await asyncio.sleep(self._grace_s)
        for session_id in session_ids:
            try:
                await self._fail(session_id)
            except Exception as exc:  # the next start-up finds it again
                log.warning("failing unresumed session %s: %r", session_id, exc)

    async def _fail(self, session_id: uuid.UUID) -> None:
        # The claim fails while a resumed session holds it; that session ends it itself.
        if not await self._store.claim(session_id, _OWNER, _LEASE_MS):
            return
        stored = await self._store.load(session_id)
        if stored is None:
            return
        audio = await asyncio.to_thread(decode_pcm16, stored.audio, stored.state.sample_rate)
        await self._recorder.ended(session_id, SessionStatus.FAILED, FAILED_REASON, audio)
        await self._store.delete(session_id, _OWNER)
        log.info(
            "session %s was not resumed: failed, %d audio bytes kept", session_id, len(stored.audio)
        )

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
