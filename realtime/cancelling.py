"""Ending background loops that live on through errors."""

from __future__ import annotations

import asyncio


def reraise_if_cancelled(exc: Exception) -> None:
    """Raise `CancelledError` from `exc` if the running task has been asked to stop.

    Call it first in the `except Exception` of a loop that lives on through errors. A
    cancellation that lands as a library's own timeout fires (redis-py connects and reads
    under `asyncio.timeout`) can come out as an ordinary error; a loop that survives errors
    must still end then, or closing its owner waits on it for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling() > 0:
        raise asyncio.CancelledError from exc
