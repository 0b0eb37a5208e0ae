"""`/v1/ws/observe`: tutors (and learners, for their own sessions) watch sessions live.

Authenticated like `/v1/ws/practice`. Each socket is one hub subscriber with a bounded
outbox: the hub only enqueues, and an observer that falls `observer_outbox_size` messages
behind is closed with `SLOW_CLIENT` (4430); it reconnects and resumes from its offsets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import assert_never

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from realtime import log_context
from realtime.bus import BusUnavailable, Envelope, Position
from realtime.endpoint import credentials, refusal_code
from realtime.fanout import CannotRecover
from realtime.hub import Hub
from realtime.hub_settings import HubSettings
from realtime.observe_access import Grant, ObserveAccess, channel_of
from realtime.observe_protocol import (
    ChannelRef,
    ObserveError,
    ObservePing,
    ObservePong,
    Reload,
    Subscribe,
    Subscribed,
    Unsubscribe,
    Unsubscribed,
    observer_message,
)
from realtime.protocol import CloseCode
from storage.access import Principal
from storage.errors import DatabaseUnavailable, InvalidInput, ParleyError

log = logging.getLogger("parley.observe")

MAX_FRAME_BYTES = 4096


@dataclass(frozen=True)
class ObserveService:
    hub: Hub
    access: ObserveAccess
    # The caller a token names as their account stands now; `expired_ok` for re-checks.
    authenticate: Callable[..., Awaitable[Principal]]
    settings: HubSettings
    # How often an open socket's account and subscriptions are checked again: a tutor
    # removed from a course, demoted or disabled stops receiving its events within this.
    recheck_s: float = 5.0


class Observer:
    """One observer socket as a hub subscriber: every hub callback only enqueues."""

    def __init__(self, websocket: WebSocket, outbox_size: int) -> None:
        self._ws = websocket
        self._limit = outbox_size
        self._outbox: asyncio.Queue[str | tuple[int, str]] = asyncio.Queue()
        self.grants: dict[str, Grant] = {}
        self.refs: dict[str, ChannelRef] = {}  # what each grant was asked for, to re-check
        self.closing = False

    # hub subscriber

    def subscribed(self, channel: str, position: Position) -> None:
        self.send(Subscribed(channel=channel, offset=position.offset, epoch=position.epoch))

    def deliver(self, envelope: Envelope) -> None:
        grant = self.grants.get(envelope.channel)
        if grant is None:
            return
        if grant.courses is not None:
            course = json.loads(envelope.data).get("course_id")
            if not any(str(c) == course for c in grant.courses):
                return
        self._put(
            f'{{"type":"event","channel":{json.dumps(envelope.channel)},'
            f'"offset":{json.dumps(envelope.offset)},"epoch":{json.dumps(envelope.epoch)},'
            f'"event":{envelope.data}}}'
        )

    def reload(self, channel: str, reason: str) -> None:
        self.grants.pop(channel, None)
        self.refs.pop(channel, None)
        self.send(Reload(channel=channel, reason=reason))

    # outbox

    def send(
        self, message: Subscribed | Unsubscribed | Reload | ObserveError | ObservePong
    ) -> None:
        self._put(message.model_dump_json())

    def _put(self, text: str) -> None:
        if self.closing:
            return
        if self._outbox.qsize() >= self._limit:
            log.warning("observer too slow: %d messages queued", self._limit)
            self.close(CloseCode.SLOW_CLIENT, "observer too slow; resume from your offsets")
            return
        self._outbox.put_nowait(text)

    def close(self, code: CloseCode, reason: str = "") -> None:
        if not self.closing:
            self.closing = True
            self._outbox.put_nowait((code, reason))

    async def pump(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if isinstance(item, tuple):
                    if self._ws.application_state is WebSocketState.CONNECTED:
                        await self._ws.close(item[0], item[1][:120])
                    return
                await self._ws.send_text(item)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:  # the peer went away
            log.debug("observer send stopped: %s", exc)
        finally:
            self.closing = True


async def observe_endpoint(websocket: WebSocket) -> None:
    service: ObserveService = websocket.app.state.observe
    token, subprotocol = credentials(websocket)
    await websocket.accept(subprotocol=subprotocol)
    try:
        who = await service.authenticate(token)  # and again at each subscribe
        log_context.set_user(who.user_id)
    except ParleyError as exc:
        await websocket.close(refusal_code(exc), exc.message[:120])
        return
    observer = Observer(websocket, service.settings.observer_outbox_size)
    sender = asyncio.create_task(observer.pump())
    receiver = asyncio.create_task(_receive_loop(websocket, observer, service, token))
    rechecker = asyncio.create_task(_recheck(observer, service, token))
    try:
        # Either side may end it: the peer leaves, or the observer is closed (too slow): then
        # its subscriptions go at once, not when a peer that reads nothing finally leaves.
        await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        rechecker.cancel()
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await rechecker
        try:
            await receiver
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("an observer socket failed")
        for channel in list(observer.grants):
            await service.hub.unsubscribe(channel, observer)
        observer.grants.clear()
        observer.close(CloseCode.NORMAL)
        await sender


async def _receive_loop(
    websocket: WebSocket, observer: Observer, service: ObserveService, token: str
) -> None:
    while not observer.closing:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect" or observer.closing:
            return
        text: str | None = message.get("text")
        # Binary frames are measured too: any message over the limit closes with 4413.
        size = len(text.encode()) if text is not None else len(message.get("bytes") or b"")
        if size > MAX_FRAME_BYTES:
            observer.send(
                ObserveError(
                    code="frame_too_large",
                    message=f"messages are limited to {MAX_FRAME_BYTES} bytes",
                    fatal=True,
                )
            )
            observer.close(CloseCode.TOO_LARGE, "frame too large")
            return
        if text is None:
            observer.send(ObserveError(code="bad_message", message="send JSON text messages"))
            continue
        try:
            parsed = observer_message.validate_json(text)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            unknown = first["type"] in ("union_tag_invalid", "union_tag_not_found")
            where = ".".join(str(p) for p in first["loc"]) or "message"
            observer.send(
                ObserveError(
                    code="unknown_message" if unknown else "bad_message",
                    message=first["msg"] if unknown else f"{where}: {first['msg']}",
                )
            )
            continue
        match parsed:
            case Subscribe():
                # The token is checked again: a long-lived socket must not outlive it.
                try:
                    who = await service.authenticate(token)
                except ParleyError as exc:
                    observer.send(ObserveError(code=exc.code, message=exc.message, fatal=True))
                    observer.close(CloseCode.UNAUTHORIZED, exc.message)
                    return
                await _subscribe(observer, service, who, parsed)
            case Unsubscribe():
                await _unsubscribe(observer, service, parsed)
            case ObservePing():
                observer.send(ObservePong(id=parsed.id))
            case _:
                assert_never(parsed)


async def _recheck(observer: Observer, service: ObserveService, token: str) -> None:
    """Every `recheck_s`: the account behind the socket, then each subscription as if made
    anew. What is no longer allowed ends, and the observer is told why. (The token's own
    expiry is not held against an open socket; its account is.)"""
    while not observer.closing:
        await asyncio.sleep(service.recheck_s)
        try:
            who = await service.authenticate(token, expired_ok=True)
        except DatabaseUnavailable:  # the database is away: keep what was granted, retry later
            continue
        except ParleyError as exc:
            observer.send(ObserveError(code=exc.code, message=exc.message, fatal=True))
            observer.close(CloseCode.UNAUTHORIZED, exc.message)
            return
        except Exception:  # the database is away: keep what was granted, try again later
            log.warning("re-checking an observer failed", exc_info=True)
            continue
        for channel, ref in list(observer.refs.items()):
            try:
                grant = await service.access.grant(who, ref)
            except ParleyError as exc:
                observer.grants.pop(channel, None)
                observer.refs.pop(channel, None)
                await service.hub.unsubscribe(channel, observer)
                observer.send(
                    ObserveError(
                        code="access_ended", message=f"{channel}: access ended ({exc.message})"
                    )
                )
            except Exception:
                log.warning("re-checking a subscription failed", exc_info=True)
            else:
                if channel in observer.grants:
                    observer.grants[channel] = grant  # a tutor's courses may have changed


async def _subscribe(
    observer: Observer, service: ObserveService, who: Principal, message: Subscribe
) -> None:
    if (message.offset is None) != (message.epoch is None):
        observer.send(ObserveError(code="bad_message", message="offset and epoch go together"))
        return
    try:
        grant = await service.access.grant(who, message.channel)
    except ParleyError as exc:
        observer.send(ObserveError(code=exc.code, message=exc.message))
        return
    except Exception:  # ours (e.g. the database is down), not the observer's
        log.exception("checking a subscription failed")
        observer.send(
            ObserveError(code="internal", message="the subscription could not be checked")
        )
        return
    if grant.channel not in observer.grants and len(observer.grants) >= (
        service.settings.max_subscriptions
    ):
        observer.send(
            ObserveError(
                code="too_many_subscriptions",
                message=f"at most {service.settings.max_subscriptions} channels per socket",
            )
        )
        return
    position = None
    if message.offset is not None and message.epoch is not None:
        position = Position(message.offset, message.epoch)
    observer.grants[grant.channel] = grant
    observer.refs[grant.channel] = message.channel
    try:
        await service.hub.subscribe(grant.channel, observer, position)
    except CannotRecover as exc:
        observer.reload(grant.channel, exc.reason)
    except BusUnavailable:
        observer.grants.pop(grant.channel, None)
        observer.refs.pop(grant.channel, None)
        observer.send(
            ObserveError(code="hub_unavailable", message="live events are unavailable; retry")
        )


async def _unsubscribe(observer: Observer, service: ObserveService, message: Unsubscribe) -> None:
    ref = message.channel
    try:
        channel = channel_of(ref)
    except InvalidInput:
        channel = f"{ref.kind}:{ref.id}"  # never subscribed: said so below
    observer.refs.pop(channel, None)
    if observer.grants.pop(channel, None) is None:
        observer.send(ObserveError(code="not_subscribed", message=f"not subscribed to {channel}"))
        return
    await service.hub.unsubscribe(channel, observer)
    observer.send(Unsubscribed(channel=channel))
