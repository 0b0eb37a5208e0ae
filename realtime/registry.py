"""The live sessions of this node: lookup for resume, and the per-user and per-node limits."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

from realtime.load_gauge import LagGauge
from realtime.session import PracticeSession
from realtime.session_state import LIVE
from storage.errors import NotFound, TooManyRequests, Unauthenticated


class NodeFull(TooManyRequests):
    """This node holds as many live sessions as it may: another node should take this one."""


class SessionRegistry:
    def __init__(
        self, max_per_user: int, max_per_node: int = 0, busy: LagGauge | None = None
    ) -> None:
        """`busy`: the node's measured load; while it is busy, no newcomer is admitted."""
        self._max_per_user = max_per_user
        self._max_per_node = max_per_node
        self._busy = busy
        self._sessions: dict[uuid.UUID, PracticeSession] = {}

    @property
    def live(self) -> int:
        return sum(1 for s in self._sessions.values() if s.state in LIVE)

    @property
    def full(self) -> bool:
        if 0 < self._max_per_node <= self.live:
            return True
        return self._busy is not None and self.live > 0 and self._busy.busy

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[PracticeSession]:
        return iter(list(self._sessions.values()))

    def check_room(self, learner_id: uuid.UUID) -> None:
        live = sum(
            1 for s in self._sessions.values() if s.learner_id == learner_id and s.state in LIVE
        )
        if live >= self._max_per_user:
            raise TooManyRequests(
                f"at most {self._max_per_user} live sessions per user", code="too_many_sessions"
            )
        if self.full:
            raise NodeFull(
                "this server is at capacity; try again shortly (another node may take it)",
                code="node_full",
            )

    def add(self, session: PracticeSession) -> None:
        self._sessions[session.id] = session

    def remove(self, session: PracticeSession) -> None:
        if self._sessions.get(session.id) is session:
            del self._sessions[session.id]

    def resume(self, session_id: uuid.UUID, token: str, learner_id: uuid.UUID) -> PracticeSession:
        session = self._sessions.get(session_id)
        if session is None or session.learner_id != learner_id:
            raise NotFound("no resumable session with this id on this node", code="not_resumable")
        if not secrets.compare_digest(session.resume_token, token):
            raise Unauthenticated("wrong resume token", code="bad_resume_token")
        return session
