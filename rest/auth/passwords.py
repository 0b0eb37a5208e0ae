"""Password hashing with Argon2id (memory-hard), via argon2-cffi."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256  # bounds the hashing work an attacker can ask for


class Passwords:
    """Owns one PasswordHasher. Hashing is CPU-heavy: the async methods run it in a thread,
    `concurrency` at a time, so a login flood queues here instead of taking the cores from
    live sessions."""

    def __init__(self, hasher: PasswordHasher | None = None, *, concurrency: int = 1) -> None:
        self._hasher = hasher or PasswordHasher()
        self._slots = asyncio.Semaphore(concurrency)
        # Verifying against this when the user does not exist keeps login timing uniform.
        self._dummy_hash = self._hasher.hash("parley-timing-equaliser")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def hash_async(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        async with self._slots:
            return await asyncio.to_thread(self.verify, password_hash, password)
