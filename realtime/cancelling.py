"""Ending background loops that live on through errors."""

from __future__ import annotations

import asyncio


def cancel_requested() -> bool:
    """Whether the running task has been asked to stop.

    A cancellation that lands as a library's own timeout fires (redis-py connects and reads
    under `asyncio.timeout`) can come out as an ordinary error; a loop that survives errors
    must still end then, or closing its owner waits on it for ever.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
