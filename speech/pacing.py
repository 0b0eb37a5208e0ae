"""How far apart a node's interim passes come, from how busy its inference workers are.

Each pass re-decodes its session's whole unsettled window, so a node's interim work
grows with the passes per session-second, not with the audio. Once the workers are busy
most of the time, passes queue for them: a word then waits for a worker about as long as
for the next pass, and every learner's `stop` waits behind the queue too. So past
`LOW` of their time busy with passes (over the last few seconds), every session's passes
stretch apart alike, up to `most` times their interval at `HIGH`: fewer passes, each
hearing more new audio, at once instead of after a queue. The workers settle in between
(fewer passes, less busy, less stretch), so a node never runs its workers flat out on
interim passes. A lone session never stretches.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

LOW = 0.4
HIGH = 0.7


class Pacing:
    """Utilisation of `workers` inference workers by interim passes over the last
    `window_s`, and the stretch of the pass interval it calls for (1 to `most`)."""

    def __init__(
        self,
        workers: int,
        *,
        most: float,
        window_s: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if most < 1.0:
            raise ValueError("the most stretch is at least 1")
        self._capacity = workers * window_s
        self._window_s = window_s
        self._most = most
        self._clock = clock
        self._calls: deque[tuple[float, float]] = deque()

    def now(self) -> float:
        return self._clock()

    def record(self, started: float, ended: float) -> None:
        """One worker ran a pass's call from `started` to `ended` (`now()` times)."""
        self._calls.append((started, ended))

    @property
    def utilisation(self) -> float:
        since = self._clock() - self._window_s
        while self._calls and self._calls[0][1] <= since:
            self._calls.popleft()
        busy = sum(max(0.0, end - max(start, since)) for start, end in self._calls)
        return min(1.0, busy / self._capacity)

    @property
    def stretch(self) -> float:
        if self._most == 1.0:
            return 1.0
        share = (self.utilisation - LOW) / (HIGH - LOW)
        return 1.0 + (self._most - 1.0) * min(1.0, max(0.0, share))
