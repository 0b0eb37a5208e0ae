"""Where a live session's state and accepted audio outlive its node: the session store seam.

Two implementations keep the same contract (one test suite runs against both):
`MemorySessionStore` here (one process; tests and a single node) and
`realtime.session_store_redis.RedisSessionStore` (shared by every node of a cluster).

Contract:
- `create` writes the state, an empty audio log and the lease of `owner` at once.
- `append(id, owner, offset, data)` adds `data` at byte `offset` only while `owner` holds the
  lease and the log is exactly `offset` bytes long; the log and its byte count change together.
- A lease is held by one owner at a time; `claim` is refused while another owner's lease lives.
- `delete` (by the owner) removes everything: a finished session is not resumable elsewhere.
- `release` (by the owner) ends only the lease: the session is handed to whoever claims it.
Resume tokens are kept only as a SHA-256 digest and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

from storage.practice import ExerciseInfo


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SessionState:
    """What another node needs to continue a session (besides its audio)."""

    session_id: uuid.UUID
    learner_id: uuid.UUID
    exercise: ExerciseInfo
    sample_rate: int
    interim: bool
    token_digest: str
    started_at: float  # wall clock (epoch seconds): the session-length limit runs from here
    node: str

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(self.token_digest, token_digest(token))


@dataclass(frozen=True, slots=True)
class StoredSession:
    state: SessionState
    audio: bytes  # raw input bytes as the client sent them, before resampling
    stopped: bool  # the client had asked for the final


class AppendResult:
    """`append` outcomes besides the new length (>= 0)."""

    NOT_OWNER = -1  # another owner holds the lease (or none does): this owner must give up
    MISMATCH = -2  # the log is not `offset` bytes long, or the session is gone


class SessionStore(Protocol):
    async def create(self, state: SessionState, owner: str, lease_ms: int) -> None: ...

    async def load(self, session_id: uuid.UUID) -> StoredSession | None: ...

    async def append(self, session_id: uuid.UUID, owner: str, offset: int, data: bytes) -> int:
        """The log's new length, or an `AppendResult` code (nothing written)."""
        ...

    async def mark_stopped(self, session_id: uuid.UUID, owner: str) -> None: ...

    async def claim(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool:
        """Take the lease unless another owner's is alive (and the session exists)."""
        ...

    async def renew(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool | None:
        """Extend `owner`'s lease (re-taking it if it lapsed untaken). False: another owner
        holds it; None: the session is gone from the store (e.g. Redis lost its data)."""
        ...

    async def delete(self, session_id: uuid.UUID, owner: str) -> None:
        """Remove the session if `owner` holds its lease; otherwise leave it to the owner."""
        ...

    async def holder(self, session_id: uuid.UUID) -> str | None:
        """The owner whose lease is alive, if any."""
        ...

    async def release(self, session_id: uuid.UUID, owner: str) -> bool:
        """End `owner`'s lease at once (the session stays, for another owner to claim);
        False if `owner` did not hold it."""
        ...


@dataclass
class _Entry:
    state: SessionState
    audio: bytearray = field(default_factory=bytearray)
    stopped: bool = False
    owner: str | None = None
    lease_until: float = 0.0


class MemorySessionStore:
    """The store within one process: leases expire on the monotonic clock."""

    def __init__(self) -> None:
        self._entries: dict[uuid.UUID, _Entry] = {}

    def _owner(self, entry: _Entry) -> str | None:
        return entry.owner if entry.lease_until > time.monotonic() else None

    def _lease(self, entry: _Entry, owner: str, lease_ms: int) -> None:
        entry.owner, entry.lease_until = owner, time.monotonic() + lease_ms / 1000

    async def create(self, state: SessionState, owner: str, lease_ms: int) -> None:
        entry = _Entry(state)
        self._lease(entry, owner, lease_ms)
        self._entries[state.session_id] = entry

    async def load(self, session_id: uuid.UUID) -> StoredSession | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        return StoredSession(entry.state, bytes(entry.audio), entry.stopped)

    async def append(self, session_id: uuid.UUID, owner: str, offset: int, data: bytes) -> int:
        entry = self._entries.get(session_id)
        if entry is None:
            return AppendResult.MISMATCH
        if self._owner(entry) != owner:
            return AppendResult.NOT_OWNER
        if len(entry.audio) != offset:
            return AppendResult.MISMATCH
        entry.audio += data
        return len(entry.audio)

    async def mark_stopped(self, session_id: uuid.UUID, owner: str) -> None:
        entry = self._entries.get(session_id)
        if entry is not None and self._owner(entry) == owner:
            entry.stopped = True

    async def claim(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool:
        entry = self._entries.get(session_id)
        if entry is None or self._owner(entry) not in (None, owner):
            return False
        self._lease(entry, owner, lease_ms)
        return True

    async def renew(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool | None:
        if session_id not in self._entries:
            return None
        return await self.claim(session_id, owner, lease_ms)

    async def delete(self, session_id: uuid.UUID, owner: str) -> None:
        entry = self._entries.get(session_id)
        if entry is not None and self._owner(entry) in (None, owner):
            del self._entries[session_id]

    async def holder(self, session_id: uuid.UUID) -> str | None:
        entry = self._entries.get(session_id)
        return None if entry is None else self._owner(entry)

    async def release(self, session_id: uuid.UUID, owner: str) -> bool:
        entry = self._entries.get(session_id)
        if entry is None or self._owner(entry) != owner:
            return False
        entry.owner, entry.lease_until = None, 0.0
        return True
