"""Rescoring progress on the hub: the adapter between the workers' `Publish` seam and the
realtime hub, so that `workers/` knows nothing of channels or buses."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

from realtime.bus import BusUnavailable
from realtime.hub import ALL, course_channel
from workers.queue import Task
from workers.runner import PublishFailed, progress_event
from workers.task import TaskOutcome

Announce = Callable[[Sequence[str], str], Awaitable[None]]


class HubProgress:
    """Publishes one event per finished task on the hub: on the course's channel (so a
    tutor observing the course sees the job advance) and on `all:*`, numbered and
    recoverable like the live sessions' events."""

    def __init__(self, announce: Announce, node: str) -> None:
        self._announce = announce
        self._node = node

    async def __call__(self, task: Task, outcome: TaskOutcome) -> None:
        if outcome.course_id is None:
            return
        body = {
            "session_id": str(task.session_id),
            "course_id": str(outcome.course_id),
            "node": self._node,
            "message": progress_event(task, outcome),
        }
        data = json.dumps(body, separators=(",", ":"))
        try:
            await self._announce([course_channel(outcome.course_id), ALL], data)
        except BusUnavailable as exc:
            raise PublishFailed(str(exc)) from exc
