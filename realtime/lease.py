"""Keeps a session's ownership lease alive: renewed well inside its TTL, until stopped.

A renewal that fails because the store is unreachable is retried at the next beat: the
session goes on meanwhile, and no other node can claim the lease while the store is down.
After the outage the lease is re-taken if it lapsed untaken. Only a lease found in another
owner's hands (`on_lost`) or a session gone from the store (`on_gone`) ends the keeper.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from realtime.cancelling import reraise_if_cancelled

log = logging.getLogger("parley.lease")

# Renewals per TTL: two may fail (a slow store, a stalled loop) before the lease lapses.
BEATS_PER_TTL = 3


class LeaseKeeper:
    def __init__(
        self,
        *,
        name: str,
        renew: Callable[[], Awaitable[bool | None]],
        lease_ms: int,
        on_lost: Callable[[], None],
        on_gone: Callable[[], None],
    ) -> None:
        """`renew`: True held, False another owner holds it, None the session is gone."""
        self._name = name
        self._renew = renew
        self._interval_s = lease_ms / 1000 / BEATS_PER_TTL
        self._on_lost = on_lost
        self._on_gone = on_gone

    async def run(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                async with asyncio.timeout(self._interval_s):
                    held = await self._renew()
            except Exception as exc:
                reraise_if_cancelled(exc)
                if not failing:
                    log.warning("renewing the lease of %s failed (retrying): %s", self._name, exc)
                failing = True
                continue
            if failing:
                log.info("the lease of %s is renewed again", self._name)
                failing = False
            if held is False:
                log.warning("the lease of %s was taken by another owner", self._name)
                self._on_lost()
                return
            if held is None:
                log.warning("session %s is gone from the session store", self._name)
                self._on_gone()
                return
