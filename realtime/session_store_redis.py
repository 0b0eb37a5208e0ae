"""The session store in Redis, shared by every node (contract: `realtime.session_store`).

Per session three keys (`Keys.session_*`): a hash with the state and the durable byte
count, a string the accepted audio is APPENDed to, and the lease (owner, PX expiry). Every
change that must check the lease runs as one Lua script, so an owner that lost its lease can
never write, and the audio and its byte count never disagree. State and audio expire
`ttl_s` after the last write, in case no node ever finishes the session.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from redis.typing import EncodableT

from realtime.session_codec import decode_state, encode_state
from realtime.session_store import AppendResult, SessionState, StoredSession
from storage.redis_keys import Keys

# KEYS: state, audio, lease. ARGV: owner, offset, data, ttl_s.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
if redis.call('STRLEN', KEYS[2]) ~= tonumber(ARGV[2]) then return -2 end
local n = redis.call('APPEND', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'bytes', n)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return n
"""

# KEYS: state, lease. ARGV: owner, lease_ms. 1 held, 0 another owner's, -2 no session.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
local current = redis.call('GET', KEYS[2])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS: state, audio, lease. ARGV: owner.
_DELETE = """
local current = redis.call('GET', KEYS[3])
if current and current ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
"""

# KEYS: lease. ARGV: owner.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

# KEYS: state, lease. ARGV: owner.
_MARK_STOPPED = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
return redis.call('HSET', KEYS[1], 'stopped', 1)
"""


class RedisSessionStore:
    def __init__(self, redis: Redis, *, keys: Keys, ttl_s: int) -> None:
        """`ttl_s`: how long state and audio outlive their last write (at least the resume
        grace plus the longest session)."""
        self._redis = redis
        self._keys = keys
        self._ttl_s = ttl_s
        self._append = redis.register_script(_APPEND)
        self._claim = redis.register_script(_CLAIM)
        self._delete = redis.register_script(_DELETE)
        self._mark_stopped = redis.register_script(_MARK_STOPPED)
        self._release = redis.register_script(_RELEASE)

    def _three(self, session_id: uuid.UUID) -> list[str]:
        k = self._keys
        return [
            k.session_state(session_id),
            k.session_audio(session_id),
            k.session_lease(session_id),
        ]

    async def create(self, state: SessionState, owner: str, lease_ms: int) -> None:
        state_key, audio_key, lease_key = self._three(state.session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(state_key, audio_key)
            fields: dict[EncodableT, EncodableT] = {k: v for k, v in encode_state(state).items()}
            pipe.hset(state_key, mapping=fields | {"bytes": 0})
            pipe.set(audio_key, b"")
            pipe.expire(state_key, self._ttl_s)
            pipe.expire(audio_key, self._ttl_s)
            pipe.set(lease_key, owner, px=lease_ms)
            await pipe.execute()

    async def load(self, session_id: uuid.UUID) -> StoredSession | None:
        state_key, audio_key, _ = self._three(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(state_key)
            pipe.get(audio_key)
            fields, audio = await pipe.execute()
        if not fields:
            return None
        decoded = {k.decode(): v.decode() for k, v in fields.items()}
        return StoredSession(
            state=decode_state(decoded), audio=bytes(audio or b""), stopped="stopped" in decoded
        )

    async def append(self, session_id: uuid.UUID, owner: str, offset: int, data: bytes) -> int:
        result = await self._append(
            keys=self._three(session_id), args=[owner, offset, data, self._ttl_s]
        )
        return int(result)

    async def mark_stopped(self, session_id: uuid.UUID, owner: str) -> None:
        state_key, _, lease_key = self._three(session_id)
        await self._mark_stopped(keys=[state_key, lease_key], args=[owner])

    async def claim(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool:
        return await self._take(session_id, owner, lease_ms) == 1

    async def renew(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> bool | None:
        result = await self._take(session_id, owner, lease_ms)
        return None if result == AppendResult.MISMATCH else result == 1

    async def _take(self, session_id: uuid.UUID, owner: str, lease_ms: int) -> int:
        state_key, _, lease_key = self._three(session_id)
        return int(await self._claim(keys=[state_key, lease_key], args=[owner, lease_ms]))

    async def delete(self, session_id: uuid.UUID, owner: str) -> None:
        await self._delete(keys=self._three(session_id), args=[owner])

    async def holder(self, session_id: uuid.UUID) -> str | None:
        owner: bytes | str | None = await self._redis.get(self._keys.session_lease(session_id))
        return owner.decode() if isinstance(owner, bytes) else owner

    async def release(self, session_id: uuid.UUID, owner: str) -> bool:
        lease = self._keys.session_lease(session_id)
        return int(await self._release(keys=[lease], args=[owner])) == 1
