"""Presence: which sessions are live right now, on which node.

Each node writes its own live sessions under a key that expires unless the node's
heartbeat renews it, so the sessions of a node that died vanish within one TTL. Without
Redis, presence is the node's own sessions.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol

from redis.asyncio import Redis

from storage.redis_keys import Keys


@dataclass(frozen=True, slots=True)
class LiveSession:
    session_id: uuid.UUID
    learner_id: uuid.UUID
    course_id: uuid.UUID
    exercise_id: uuid.UUID
    exercise_title: str
    node: str
    started_at: str  # ISO 8601, UTC
    audio_ms: int = 0
    last_activity: str = ""  # ISO 8601, UTC

    def to_json(self) -> str:
        return json.dumps(
            {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in asdict(self).items()}
        )

    @classmethod
    def from_json(cls, raw: str) -> LiveSession:
        data = json.loads(raw)
        for name in ("session_id", "learner_id", "course_id", "exercise_id"):
            data[name] = uuid.UUID(data[name])
        return cls(**data)

    def progressed(self, audio_ms: int, at: str) -> LiveSession:
        return replace(self, audio_ms=audio_ms, last_activity=at)


class Presence(Protocol):
    async def beat(self, sessions: list[LiveSession]) -> None:
        """Publish this node's live sessions (all of them) and renew its TTL."""
        ...

    async def leave(self) -> None:
        """This node stops (its sessions are gone)."""
        ...

    async def live(self) -> list[LiveSession]:
        """Live sessions on every node whose presence has not expired."""
        ...


class MemoryPresence:
    def __init__(self) -> None:
        self._sessions: list[LiveSession] = []

    async def beat(self, sessions: list[LiveSession]) -> None:
        self._sessions = list(sessions)

    async def leave(self) -> None:
        self._sessions = []

    async def live(self) -> list[LiveSession]:
        return list(self._sessions)


class RedisPresence:
    def __init__(self, *, redis: Redis, keys: Keys, node_id: str, ttl_s: float) -> None:
        self._redis = redis
        self._keys = keys
        self._node_id = node_id
        self._ttl_ms = max(1, int(ttl_s * 1000))

    async def beat(self, sessions: list[LiveSession]) -> None:
        mine = self._keys.hub_presence(self._node_id)
        nodes = self._keys.hub_presence_nodes()
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(mine)
            if sessions:
                pipe.hset(mine, mapping={str(s.session_id): s.to_json() for s in sessions})
                pipe.pexpire(mine, self._ttl_ms)
            pipe.zadd(nodes, {self._node_id: now + self._ttl_ms / 1000})
            pipe.zremrangebyscore(nodes, "-inf", now)
            await pipe.execute()

    async def leave(self) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._keys.hub_presence(self._node_id))
            pipe.zrem(self._keys.hub_presence_nodes(), self._node_id)
            await pipe.execute()

    async def live(self) -> list[LiveSession]:
        nodes: list[Any] = await self._redis.zrangebyscore(
            self._keys.hub_presence_nodes(), time.time(), "+inf"
        )
        if not nodes:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.hvals(self._keys.hub_presence(node))
            replies: list[list[str]] = await pipe.execute()
        return [LiveSession.from_json(raw) for reply in replies for raw in reply]
