"""How far apart a node's interim passes come, from how busy its inference workers are.

Each pass re-decodes its session's whole unsettled window, so a node's interim work
grows with the passes per session-second, not with the audio. Once the workers are busy
most of the time, passes queue for them: a word then waits for a worker about as long as
for the next pass, and the final's segments, decoded only when a worker is spare, wait
for the learner's `stop`. So past `LOW` of the workers' time busy (over the last few
seconds, any model call), every session's passes stretch apart alike, up to `most` times
their interval at `HIGH`: fewer passes, each hearing more new audio, decoded at once
instead of after a queue. The workers settle in between (fewer passes, less busy, less
stretch). A lone session never stretches.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

SPARE = 0.3
LOW = 0.4
HIGH = 0.7
# A value read this recently still holds (of a 3 s window): every session reads it a few
# times a chunk, and a reading sums every call of the window (~90 us for 200 calls).
_FRESH_S = 0.01


class Utilisation:
    """Share of `workers` workers' time spent in calls over the last `window_s`.
    Thread-safe: workers record, the event loop reads."""

    def __init__(
        self, workers: int, *, window_s: float = 3.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = workers * window_s
        self._window_s = window_s
        self._clock = clock
        self._calls: deque[tuple[float, float]] = deque()
        self._lock = threading.Lock()
        self._read: tuple[float, float] | None = None  # (when, value) of the last reading

    def now(self) -> float:
        return self._clock()

    def record(self, started: float, ended: float) -> None:
        """One worker ran a call from `started` to `ended` (`now()` times)."""
        with self._lock:
            self._calls.append((started, ended))
            self._forget(ended - self._window_s)  # a process nobody asks still forgets
            self._read = None

    @property
    def value(self) -> float:
        now = self._clock()
        with self._lock:
            if self._read is not None and 0.0 <= now - self._read[0] < _FRESH_S:
                return self._read[1]
            since = now - self._window_s
            self._forget(since)
            busy = sum(max(0.0, end - max(start, since)) for start, end in self._calls)
            value = min(1.0, busy / self._capacity)
            self._read = (now, value)
        return value

    def __len__(self) -> int:
        """Calls remembered: those that ended within the window (or just before)."""
        with self._lock:
            return len(self._calls)

    def _forget(self, since: float) -> None:
        while self._calls and self._calls[0][1] <= since:
            self._calls.popleft()


def stretch_for(utilisation: float, most: float) -> float:
    """How many times their interval apart passes should come at `utilisation`."""
    share = (utilisation - LOW) / (HIGH - LOW)
    return 1.0 + (most - 1.0) * min(1.0, max(0.0, share))
