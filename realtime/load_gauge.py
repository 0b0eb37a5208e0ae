"""Admission by measured load: how far this node's interim transcripts trail their audio.

Every interim pass of every session reports its lag: the audio the session had received when
the pass ended minus the audio the pass covered. While the node keeps up, lags stay around a
pass interval; when its inference workers cannot keep up, they grow for every session at
once. A node whose recent lag p95 passes the limit takes no newcomer (`node_full` with a
retry hint, `/readyz` 503), so a newcomer never degrades the sessions already there; it
admits again once the lag falls back below the limit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 5.0
# Fewer lags than this in the window (a node with one or two sessions) prove nothing.
MIN_SAMPLES = 8


class LagGauge:
    def __init__(
        self,
        limit_ms: int,
        *,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`limit_ms`: the lag p95 past which the node is busy; 0 never."""
        self.limit_ms = limit_ms
        self._window_s = window_s
        self._clock = clock
        self._lags: deque[tuple[float, int]] = deque()

    def record(self, lag_ms: int) -> None:
        now = self._clock()
        self._lags.append((now, max(0, lag_ms)))
        self._forget(now)

    def _forget(self, now: float) -> None:
        while self._lags and self._lags[0][0] < now - self._window_s:
            self._lags.popleft()

    def p95(self) -> int | None:
        """The lag p95 over the window, or None with too few passes to tell."""
        self._forget(self._clock())
        if len(self._lags) < MIN_SAMPLES:
            return None
        lags = sorted(lag for _, lag in self._lags)
        return lags[min(len(lags) - 1, int(0.95 * len(lags)))]

    @property
    def busy(self) -> bool:
        if self.limit_ms <= 0:
            return False
        p95 = self.p95()
        return p95 is not None and p95 > self.limit_ms
