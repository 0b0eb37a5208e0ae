"""`audio_received` receipts of one session: at most one per interval while audio flows,
and a count held back by the interval is sent when the interval ends, so audio that became
durable after the last frame (e.g. after an outage) is still reported."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from realtime.protocol import AudioReceived, ServerMessage


class Receipts:
    def __init__(
        self,
        *,
        send: Callable[[ServerMessage], None],
        acked_bytes: Callable[[], int],
        streaming: Callable[[], bool],
        interval_s: float,
    ) -> None:
        self._send = send
        self._acked_bytes = acked_bytes
        self._streaming = streaming
        self._interval_s = interval_s
        self._last = 0.0
        self._due: asyncio.TimerHandle | None = None

    def received(self) -> None:
        """Audio arrived (and is as safe as it will get): report it if the interval allows."""
        now = asyncio.get_running_loop().time()
        if now - self._last >= self._interval_s:
            self._last = now
            self._send(AudioReceived(bytes=self._acked_bytes()))

    def durable(self, _durable_bytes: int) -> None:
        """More audio became durable: report it now, or when the interval ends."""
        if not self._streaming() or self._due is not None:
            return
        loop = asyncio.get_running_loop()
        due = self._last + self._interval_s
        if loop.time() >= due:
            self.received()
        else:
            self._due = loop.call_at(due, self._trailing)

    def cancel(self) -> None:
        if self._due is not None:
            self._due.cancel()

    def _trailing(self) -> None:
        self._due = None
        if self._streaming():
            self.received()
