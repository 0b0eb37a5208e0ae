"""A node's event hub: publishes its sessions' events, fans events out to local observers.

Publishing never makes a session wait: `publish` only enqueues (dropping, with a warning,
when the queue is full) and one task hands the events to the bus in order. When the bus is
unavailable (Redis down) events still reach this node's observers, unnumbered.

Observers on this node subscribe through it (`realtime.fanout`), and it keeps this node's
part of presence: its live sessions, renewed every heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from realtime.bus import BusUnavailable, Envelope, EventBus, Position
from realtime.cancelling import reraise_if_cancelled
from realtime.fanout import Fanout, Subscriber
from realtime.hub_settings import HubSettings
from realtime.observe_protocol import EventMessage, SessionEnded, SessionStarted, event_body
from realtime.ports import SessionMeta
from realtime.presence import LiveSession, Presence
from realtime.protocol import InterimTranscript

log = logging.getLogger("parley.hub")

ALL = "all:*"
MAX_BATCH = 256


def course_channel(course_id: uuid.UUID) -> str:
    return f"course:{course_id}"


def channels_of(meta: SessionMeta) -> list[str]:
    return [
        f"session:{meta.session_id}",
        f"learner:{meta.learner_id}",
        course_channel(meta.course_id),
        ALL,
    ]


class Hub:
    def __init__(
        self, *, bus: EventBus, presence: Presence, settings: HubSettings, node_id: str
    ) -> None:
        self.node_id = node_id
        self._bus = bus
        self._presence = presence
        self._settings = settings
        self._queue: asyncio.Queue[tuple[SessionMeta, EventMessage]] = asyncio.Queue(
            settings.publish_queue_size
        )
        self._fanout = Fanout(bus=bus, settings=settings)
        self._live: dict[str, LiveSession] = {}
        self._presence_due = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.dropped = 0
        bus.bind(self._fanout.dispatch, self._resync)

    @property
    def available(self) -> bool:
        return self._bus.available

    @property
    def subscriptions(self) -> int:
        return self._fanout.subscriptions

    async def start(self) -> None:
        await self._bus.start()
        self._spawn(self._drain())
        self._spawn(self._beat())

    async def aclose(self) -> None:
        """Publish what is queued (briefly), then stop and leave presence."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._settings.redis_timeout_s):
                await self._queue.join()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._fanout.aclose()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._presence.leave(), self._settings.redis_timeout_s)
        await self._bus.aclose()

    # publishing (the sessions' side)

    def publish(self, session: SessionMeta, message: EventMessage) -> None:
        self._track(session, message)
        try:
            self._queue.put_nowait((session, message))
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "event queue full: dropped a %s event of %s", message.type, session.session_id
            )

    async def announce(self, channels: Sequence[str], data: str) -> None:
        """Publish an event that belongs to no live session (rescoring progress) on
        `channels`; while the bus is down it reaches this node's observers, unnumbered."""
        try:
            await self._bus.publish(channels, data)
        except BusUnavailable:
            for channel in channels:
                self._fanout.dispatch(Envelope(channel, None, None, data))

    def _track(self, session: SessionMeta, message: EventMessage) -> None:
        key = str(session.session_id)
        now = datetime.now(UTC).isoformat()
        match message:
            case SessionStarted():
                self._live[key] = LiveSession(
                    session_id=session.session_id,
                    learner_id=session.learner_id,
                    course_id=session.course_id,
                    exercise_id=session.exercise_id,
                    exercise_title=session.exercise_title,
                    node=self.node_id,
                    started_at=message.started_at,
                    last_activity=now,
                )
                self._presence_due.set()
            case SessionEnded():
                self._live.pop(key, None)
                self._presence_due.set()
            case InterimTranscript():
                if key in self._live:
                    self._live[key] = self._live[key].progressed(message.audio_ms, now)

    def forget(self, session_id: uuid.UUID) -> None:
        if self._live.pop(str(session_id), None) is not None:
            self._presence_due.set()

    def local_live(self) -> list[LiveSession]:
        return list(self._live.values())

    async def live(self) -> list[LiveSession]:
        """Live sessions on every node (this node's as of now, others' as of their last
        heartbeat); raises when presence cannot be read (Redis down)."""
        others = [s for s in await self._presence.live() if s.node != self.node_id]
        return others + self.local_live()

    async def _drain(self) -> None:
        while True:
            # What queued up meanwhile goes in one round trip, so a backlog clears fast.
            items = [await self._queue.get()]
            while len(items) < MAX_BATCH and not self._queue.empty():
                items.append(self._queue.get_nowait())
            batch = [(channels_of(session), self._encode(session, m)) for session, m in items]
            try:
                await self._bus.publish_batch(batch)
            except Exception as exc:
                reraise_if_cancelled(exc)
                if not isinstance(exc, BusUnavailable):
                    log.exception("publishing events failed")
                for channels, data in batch:
                    for channel in channels:
                        self._fanout.dispatch(Envelope(channel, None, None, data))
            finally:
                for _ in items:
                    self._queue.task_done()

    def _encode(self, session: SessionMeta, message: EventMessage) -> str:
        body = event_body(
            session_id=session.session_id,
            learner_id=session.learner_id,
            course_id=session.course_id,
            exercise_id=session.exercise_id,
            node=self.node_id,
            message=message,
        )
        return json.dumps(body, separators=(",", ":"))

    async def _beat(self) -> None:
        failing = False
        while True:
            self._presence_due.clear()
            try:
                await self._presence.beat(list(self._live.values()))
                failing = False
            except Exception as exc:
                reraise_if_cancelled(exc)
                if not failing:
                    log.warning("presence heartbeat failed: %s", exc)
                failing = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._presence_due.wait(), self._settings.presence_heartbeat_s
                )

    # observing (the observers' side)

    async def subscribe(
        self, channel: str, subscriber: Subscriber, position: Position | None = None
    ) -> None:
        """See `Fanout.subscribe`."""
        await self._fanout.subscribe(channel, subscriber, position)

    async def unsubscribe(self, channel: str, subscriber: Subscriber) -> None:
        await self._fanout.unsubscribe(channel, subscriber)

    def _resync(self) -> None:
        self._fanout.resync()
        self._presence_due.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
