"""The session store of a node without Redis (contract: `realtime.session_store`).

Per session two files under `root`: `<id>.json` (the state, and whether the client asked for
the final) and `<id>.pcm` (the accepted audio). `append` returns only once the bytes are on
disk (fdatasync), so an acknowledged byte survives a crash of the process or the machine,
as it survives a node on a cluster. Leases live in memory: only this process holds any, and
a restart frees them all, so a learner who reconnects after one continues their session.

Files are written from one dedicated thread so that disk waits never block the event loop
nor queue behind transcription in the default executor.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from realtime.session_codec import decode_state, encode_state
from realtime.session_store import AppendResult, SessionState, StoredSession

T = TypeVar("T")


class DiskSessionStore:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self._leases: dict[uuid.UUID, tuple[str, float]] = {}
        self._lengths: dict[uuid.UUID, int] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parley-disk")

    def session_ids(self) -> list[uuid.UUID]:
        """The sessions on disk: at start-up, the ones the previous process was running."""
        ids = []
        for path in sorted(self.root.glob("*.json")):
            try:
                ids.append(uuid.UUID(path.stem))
            except ValueError:
                continue  # not a file of this store
        return ids

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def _paths(self, session_id: uuid.UUID) -> tuple[Path, Path]:
        return self.root / f"{session_id}.json", self.root / f"{session_id}.pcm"

    def _owner(self, session_id: uuid.UUID) -> str | None:
        lease = self._leases.get(session_id)
        return lease[0] if lease is not None and lease[1] > time.monotonic() else None

    def _lease(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> None:
        self._leases[session_id] = (owner, time.monotonic() + lease_ms / 1000)

    async def create(self, state: SessionState, owner: str, lease_ms: int) -> None:
        fields = {k: str(v) for k, v in encode_state(state).items()}
        await self._run(self._create_files, state.session_id, fields)
        self._lengths[state.session_id] = 0
        self._lease(state.session_id, owner, lease_ms)

    def _create_files(self, session_id: uuid.UUID, fields: dict[str, str]) -> None:
        state_path, audio_path = self._paths(session_id)
        with open(audio_path, "wb") as audio:
            os.fdatasync(audio.fileno())
        self._write_state(state_path, fields)

    def _write_state(self, path: Path, fields: dict[str, str]) -> None:
        # Written aside and renamed: a crash leaves the old state or the new, never half.
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(fields, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        directory = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def load(self, session_id: uuid.UUID) -> StoredSession | None:
        loaded: tuple[dict[str, str], bytes] | None = await self._run(self._read, session_id)
        if loaded is None:
            return None
        fields, audio = loaded
        self._lengths[session_id] = len(audio)
        return StoredSession(decode_state(fields), audio, stopped=fields.get("stopped") == "1")

    def _read(self, session_id: uuid.UUID) -> tuple[dict[str, str], bytes] | None:
        state_path, audio_path = self._paths(session_id)
        try:
            fields = json.loads(state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        try:
            audio = audio_path.read_bytes()
        except FileNotFoundError:
            audio = b""
        return fields, audio

    async def _length(self, session_id: uuid.UUID) -> int | None:
        if session_id not in self._lengths:
            if await self.load(session_id) is None:
                return None
        return self._lengths[session_id]

    async def append(self, session_id: uuid.UUID, owner: str, offset: int, data: bytes) -> int:
        length = await self._length(session_id)
        if length is None:
            return AppendResult.MISMATCH
        if self._owner(session_id) != owner:
            return AppendResult.NOT_OWNER
        if length != offset:
            return AppendResult.MISMATCH
        await self._run(self._append, self._paths(session_id)[1], offset, data)
        self._lengths[session_id] = offset + len(data)
        return offset + len(data)

    @staticmethod
    def _append(path: Path, offset: int, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, offset)
            os.fdatasync(fd)  # before the caller acknowledges the bytes
        finally:
            os.close(fd)

    async def mark_stopped(self, session_id: uuid.UUID, owner: str) -> None:
        if self._owner(session_id) != owner:
            return
        loaded = await self._run(self._read, session_id)
        if loaded is not None:
            fields = {**loaded[0], "stopped": "1"}
            await self._run(self._write_state, self._paths(session_id)[0], fields)

    async def claim(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool:
        if self._owner(session_id) not in (None, owner):
            return False
        if await self._length(session_id) is None:
            return False
        self._lease(session_id, owner, lease_ms)
        return True

    async def renew(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool | None:
        if await self._length(session_id) is None:
            return None
        return await self.claim(session_id, owner, lease_ms)

    async def delete(self, session_id: uuid.UUID, owner: str) -> None:
        if self._owner(session_id) not in (None, owner):
            return
        self._leases.pop(session_id, None)
        self._lengths.pop(session_id, None)
        await self._run(self._remove, session_id)

    def _remove(self, session_id: uuid.UUID) -> None:
        for path in self._paths(session_id):
            path.unlink(missing_ok=True)

    async def holder(self, session_id: uuid.UUID) -> str | None:
        return self._owner(session_id)

    async def release(self, session_id: uuid.UUID, owner: str) -> bool:
        if self._owner(session_id) != owner:
            return False
        del self._leases[session_id]
        return True
