"""`/v1/ws/practice`: authenticate, accept, then a receive loop beside a sender task.

Transport only: parsing, limits that concern frames and idleness, and turning errors into
`error` messages or close codes. What a message means is the session's business.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from dataclasses import dataclass
from typing import assert_never

from pydantic import ValidationError
from starlette.websockets import WebSocket

from realtime import log_context
from realtime.connection import Connection
from realtime.protocol import (
    AudioChunk,
    Cancel,
    CloseCode,
    Error,
    Ping,
    Pong,
    Start,
    Stop,
    client_message,
)
from realtime.registry import NodeFull
from realtime.service import PracticeService
from realtime.session import PracticeSession
from realtime.session_state import LIVE, State
from realtime.throttle import FrameRate, parse_limit
from storage.access import Principal
from storage.errors import DatabaseUnavailable, ParleyError, TooManyRequests
from storage.outage import is_outage

log = logging.getLogger("parley.ws")

SUBPROTOCOL = "parley.v1"
BEARER_PREFIX = "bearer."
FINAL_WAIT_S = 30.0
FEEDBACK_WAIT_S = 600.0


def refusal_code(exc: ParleyError) -> int:
    """Why a socket is refused at connect: its credentials, or an outage worth a retry."""
    return exc.close_code if isinstance(exc, DatabaseUnavailable) else CloseCode.UNAUTHORIZED


def credentials(websocket: WebSocket) -> tuple[str, str | None]:
    """The access token (query `access_token`, or subprotocol `bearer.<token>`) and the
    subprotocol to answer with."""
    offered = [
        p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",") if p
    ]
    chosen = SUBPROTOCOL if SUBPROTOCOL in offered else None
    for proto in offered:
        if proto.startswith(BEARER_PREFIX):
            return proto.removeprefix(BEARER_PREFIX), chosen
    return websocket.query_params.get("access_token", ""), chosen


async def practice_endpoint(websocket: WebSocket) -> None:
    service: PracticeService = websocket.app.state.practice
    token, subprotocol = credentials(websocket)
    await websocket.accept(subprotocol=subprotocol)
    try:
        who = await service.authenticate(token)
        log_context.set_user(who.user_id)
    except ParleyError as exc:
        # Accepted first: a close before accept() reaches a browser as a bare HTTP 403.
        await websocket.close(refusal_code(exc), exc.message[:120])
        return
    try:
        await service.admit(who, websocket.client.host if websocket.client else "unknown")
    except TooManyRequests as exc:
        await websocket.send_text(
            Error(code=exc.code, message=exc.message, fatal=True).model_dump_json()
        )
        await websocket.close(CloseCode.TOO_MANY, exc.message[:120])
        return
    conn = Connection(websocket, service.settings.outbox_size)
    live = _Live()
    rechecker = asyncio.create_task(_recheck(conn, service, token, live))
    try:
        live.session = await _receive_loop(websocket, conn, service, who, live)
    finally:
        rechecker.cancel()
        if live.session is not None:
            live.session.detach(conn)
        conn.close(CloseCode.NORMAL)
        await conn.drain()


@dataclass
class _Live:
    """The socket's session, as the receive loop and the re-check both see it."""

    session: PracticeSession | None = None


async def _recheck(conn: Connection, service: PracticeService, token: str, live: _Live) -> None:
    """Every `recheck_s`: the account behind the socket as it stands now (the token's own
    expiry is not held against an open socket; its account is). Access that ended ends the
    session and the socket, and the client is told why."""
    while not conn.closing:
        await asyncio.sleep(service.recheck_s)
        try:
            await service.authenticate(token, expired_ok=True)
        except DatabaseUnavailable:
            continue  # an outage is not a revocation: keep going, check again
        except ParleyError as exc:
            reason = f"access ended: {exc.message}"
            if live.session is not None:
                live.session.revoke(reason)
            conn.send(Error(code="access_ended", message=reason, fatal=True))
            conn.close(CloseCode.UNAUTHORIZED, reason)
            return
        except Exception:
            log.warning("re-checking a practice socket failed", exc_info=True)


async def _receive_loop(
    websocket: WebSocket, conn: Connection, service: PracticeService, who: Principal, live: _Live
) -> PracticeSession | None:
    settings = service.settings
    session: PracticeSession | None = None
    rate = FrameRate(parse_limit(service.limits.ws_messages_per_socket))
    while not conn.closing:
        try:
            # A deadline, not wait_for: that would run each receive in a task of its own,
            # and every idle socket would hold one more task (memory per connection).
            async with asyncio.timeout(settings.idle_timeout_s):
                message = await websocket.receive()
        except TimeoutError:
            await _idle(conn, session)
            return session
        if message["type"] == "websocket.disconnect" or conn.closing:
            # Closing (e.g. superseded by a resume elsewhere): a frame that was already on
            # its way must not reach the session, which now belongs to the new connection.
            return session
        data: bytes | None = message.get("bytes")
        text: str | None = message.get("text")
        # Audio a streaming session takes is bounded by its audio limit and may come as fast
        # as a client uploads it; every other frame costs an answer, so those are counted.
        streaming = data is not None and session is not None and session.state is State.STREAMING
        if service.limits.enabled and not streaming and not rate.allow():
            limit = service.limits.ws_messages_per_socket
            conn.send(Error(code="rate_limited", message=f"at most {limit} messages", fatal=True))
            conn.close(CloseCode.TOO_MANY, "too many messages")
            return session
        size = len(data) if data is not None else len((text or "").encode())
        if size > settings.max_frame_bytes:
            conn.send(
                Error(
                    code="frame_too_large",
                    message=f"frames are limited to {settings.max_frame_bytes} bytes",
                    fatal=True,
                )
            )
            conn.close(CloseCode.TOO_LARGE, "frame too large")
            return session
        if data is not None:
            _audio(conn, session, data)
        elif text is not None:
            session = live.session = await _message(conn, service, who, session, text)
    return session


def _audio(conn: Connection, session: PracticeSession | None, data: bytes) -> None:
    if session is None:
        conn.send(Error(code="not_started", message="send `start` before audio"))
        return
    session.audio(data)  # answers `not_streaming` itself once the session is past streaming


async def _message(
    conn: Connection,
    service: PracticeService,
    who: Principal,
    session: PracticeSession | None,
    text: str,
) -> PracticeSession | None:
    try:
        # Strict: "16000" is not a sample rate and "yes" is not a flag.
        message = client_message.validate_json(text, strict=True)
    except ValidationError as exc:
        conn.send(_invalid(exc))
        return session
    match message:
        case Start():
            if session is not None and session.state in LIVE and message.resume is None:
                conn.send(Error(code="already_started", message="a session is in progress"))
                return session
            try:
                return await service.start(message, who, conn)
            except ParleyError as exc:
                fatal = isinstance(exc, TooManyRequests)
                conn.send(Error(code=exc.code, message=exc.message, fatal=fatal))
                if fatal:
                    full = isinstance(exc, NodeFull)
                    conn.close(CloseCode.NODE_FULL if full else CloseCode.TOO_MANY, exc.message)
                return session
            except Exception as exc:
                if is_outage(exc):  # not fatal: the client may start again shortly
                    log.warning("starting a session: database unavailable: %r", exc)
                    unavailable = DatabaseUnavailable()
                    conn.send(Error(code=unavailable.code, message=unavailable.message))
                    return session
                # Our failure, not the client's: say so plainly.
                log.exception("starting a session failed")
                conn.send(Error(code="internal", message="the session could not start", fatal=True))
                conn.close(CloseCode.INTERNAL, "internal error")
                return session
        case AudioChunk():
            try:
                data = base64.b64decode(message.data, validate=True)
            except (binascii.Error, ValueError):
                conn.send(Error(code="bad_message", message="audio_chunk data is not base64"))
                return session
            _audio(conn, session, data)
        case Stop():
            if session is None:
                conn.send(Error(code="not_started", message="no session to stop"))
            else:
                session.stop()
        case Cancel():
            if session is None:
                conn.send(Error(code="not_started", message="no session to cancel"))
            else:
                session.cancel()
        case Ping():
            conn.send(Pong(id=message.id))
        case _:
            assert_never(message)
    return session


def _invalid(exc: ValidationError) -> Error:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    if tuple(first["loc"][:2]) == ("start", "audio"):
        return Error(code="unsupported_audio", message=f"{where}: {first['msg']}")
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return Error(code="unknown_message", message=first["msg"])
    return Error(code="bad_message", message=f"{where or 'message'}: {first['msg']}")


async def _idle(conn: Connection, session: PracticeSession | None) -> None:
    """No frame for the idle timeout: finish what was said, deliver it (the final, and
    feedback still being written: a client waiting for it is not idle), then close."""
    if session is not None and session.state is State.STREAMING:
        conn.send(Error(code="idle_timeout", message="no audio or message; finishing"))
        session.stop()
    if session is not None and session.state in LIVE:
        try:
            await asyncio.wait_for(session.finished.wait(), FINAL_WAIT_S)
        except TimeoutError:
            log.warning("session %s did not finish in %ss", session.id, FINAL_WAIT_S)
    if session is not None and session.finished.is_set():
        # The feedback stage bounds its own time (the LLM timeout and retries).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(session.delivered.wait(), FEEDBACK_WAIT_S)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(5.0):
            await conn.drain()
    conn.close(CloseCode.IDLE, "idle timeout")
