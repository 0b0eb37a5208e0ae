"""One access-log line per request and per websocket, with the request's id.

Replaces uvicorn's access log, which writes the raw path with its query string (a browser's
websocket carries its token there). The id comes from a well-formed incoming `X-Request-ID`
(set by a proxy in front) or is made here; it is echoed in the response and set in the log
context, so every line the request causes carries it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtime import log_context

log = logging.getLogger("parley.access")

HEADER = b"x-request-id"
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER and _WELL_FORMED.fullmatch(value):
            return bytes(value).decode()
    return uuid.uuid4().hex


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope)
        log_context.request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            elif message["type"] == "websocket.accept":
                status = 101
            elif message["type"] == "websocket.close" and not status:
                status = 403  # refused before the handshake completed
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope.get("method", "WEBSOCKET"),
                scope["path"],
                status or 500,
                extra={
                    "method": scope.get("method", "WEBSOCKET"),
                    "path": scope["path"],
                    "status": status or 500,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
