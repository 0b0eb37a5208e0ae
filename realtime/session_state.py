"""The states of a practice session, and the timing rule its node and the service share."""

from __future__ import annotations

import enum

# How long `stop` waits for queued audio to become durable before it reports the total.
DURABLE_FLUSH_S = 1.0


class State(enum.Enum):
    STREAMING = "streaming"
    FINALIZING = "finalizing"
    DONE = "done"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"


LIVE = (State.STREAMING, State.FINALIZING)
