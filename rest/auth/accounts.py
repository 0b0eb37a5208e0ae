"""The account behind a token: exists, active, not revoked, and its role now.

A token's word is not taken over the account's: a disabled or deleted account, a demotion or
a revocation (`users.token_version`) takes effect within `ttl_s` on every node, not when the
token expires. The account is re-read at most every `ttl_s` per user, so a busy client costs
one query every few seconds, not one per request; changes made on this node apply at once
(`forget`).
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rest.auth.tokens import Claims, TokenService
from storage.access import Principal
from storage.errors import DatabaseUnavailable, Unauthenticated
from storage.models import Role, User
from storage.outage import is_outage


@dataclass(frozen=True, slots=True)
class Account:
    role: Role
    active: bool
    token_version: int


class Accounts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._cache: OrderedDict[uuid.UUID, tuple[float, Account | None]] = OrderedDict()

    async def principal(self, claims: Claims) -> Principal:
        """The caller, with the account's role; Unauthenticated when the account is gone,
        disabled, or revoked the token."""
        account = await self._account(claims.user_id)
        if account is None:
            raise Unauthenticated("the account no longer exists", code="account_not_found")
        if not account.active:
            raise Unauthenticated("account disabled", code="account_disabled")
        if claims.version < account.token_version:
            raise Unauthenticated("token revoked; sign in again", code="token_revoked")
        return Principal(user_id=claims.user_id, role=account.role)

    def forget(self, user_id: uuid.UUID) -> None:
        self._cache.pop(user_id, None)

    async def _account(self, user_id: uuid.UUID) -> Account | None:
        now = self._clock()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < self._ttl_s:
            return cached[1]
        async with self._sessions() as db:
            row = (
                await db.execute(
                    select(User.role, User.active, User.token_version).where(User.id == user_id)
                )
            ).one_or_none()
        account = None if row is None else Account(Role(row.role), row.active, row.token_version)
        self._cache[user_id] = (now, account)
        self._cache.move_to_end(user_id)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)
        return account


def socket_authenticator(
    tokens: TokenService, accounts: Accounts
) -> Callable[..., Awaitable[Principal]]:
    """What the websocket endpoints call with a token: the caller as their account stands
    now; `expired_ok` for the periodic re-checks of a socket already open."""

    async def authenticate(token: str, *, expired_ok: bool = False) -> Principal:
        claims = tokens.claims(token, verify_exp=not expired_ok)
        try:
            return await accounts.principal(claims)
        except Exception as exc:
            if is_outage(exc):
                raise DatabaseUnavailable() from exc
            raise

    return authenticate
