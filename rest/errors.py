"""Turns exceptions into JSON error responses: `{"error": {"code", "message", "details"?}}`.

The only place REST errors are rendered and logged. A ParleyError is the client's (or a
known) condition; anything else is a bug, logged with its traceback and answered 500.
"""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from storage.errors import DatabaseUnavailable, ParleyError
from storage.outage import is_outage

log = logging.getLogger("parley.rest")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if extra:
        body["details"] = extra
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status == 429 and isinstance(extra.get("retry_after_s"), int):
        headers["Retry-After"] = str(extra["retry_after_s"])
    return JSONResponse({"error": body}, status_code=status, headers=headers or None)


async def parley_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParleyError)
    if isinstance(exc, DatabaseUnavailable):
        return _unavailable(exc)
    if exc.status == 503:
        # A part that is missing or down (an engine, a queue): the operator's to fix, no bug.
        log.warning("unavailable: %s", exc.message)
    elif exc.status >= 500:
        log.error("internal error: %s", exc.message, exc_info=exc)
    body = exc.to_dict()
    details = body.get("details", {})
    return error_response(exc.status, exc.code, exc.message, **details)


async def http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    response = error_response(exc.status_code, code, str(exc.detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def database_error(request: Request, exc: Exception) -> Response:
    """A database outage is no bug of ours nor the client's mistake: 503, retry shortly."""
    if not is_outage(exc):
        return await unexpected_error(request, exc)
    log.warning("database unavailable: %r", exc)
    return _unavailable(DatabaseUnavailable())


def _unavailable(exc: DatabaseUnavailable) -> Response:
    response = error_response(exc.status, exc.code, exc.message)
    response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


async def unexpected_error(_request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal", "internal server error")
