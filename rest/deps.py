"""What handlers need from a request: the app state, the caller, validated input."""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from realtime import log_context
from realtime.throttle import parse_limit
from rest.state import AppState
from storage.access import Principal
from storage.errors import (
    BadRequest,
    InvalidInput,
    PayloadTooLarge,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
)
from storage.models import Role

JSON = "application/json"

M = TypeVar("M", bound=BaseModel)

MAX_BODY_BYTES = 256 * 1024


def state(request: Request) -> AppState:
    app_state: AppState = request.app.state.parley
    return app_state


def client_address(request: Request) -> str:
    """The client's address: uvicorn has already taken it from X-Forwarded-For when the
    peer is one of `limits.trusted_proxies` (`parley serve` passes them), and only then."""
    return request.client.host if request.client else "unknown"


async def limit(request: Request, rule: str, setting: str, *key: str) -> None:
    """Counts the request under `rule` (its limit is `settings.limits.<setting>`); 429 with
    Retry-After once it is over."""
    app = state(request)
    refusal = await app.throttle.hit(rule, parse_limit(getattr(app.settings.limits, setting)), *key)
    if refusal is not None:
        raise TooManyRequests(
            f"too many requests ({rule}); retry in {refusal.retry_after_s} s",
            code="rate_limited",
            retry_after_s=refusal.retry_after_s,
        )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token", code="missing_token")
    return token.strip()


async def principal(request: Request, *roles: Role) -> Principal:
    """The authenticated caller, as their account stands now (`rest.auth.accounts`); with
    `roles`, one of them is required."""
    app = state(request)
    who = await app.accounts.principal(app.tokens.claims(bearer_token(request)))
    log_context.set_user(who.user_id)
    if roles and who.role not in roles:
        raise PermissionDenied(f"requires role {' or '.join(r.value for r in roles)}")
    return who


def request_id() -> str | None:
    """This request's id (X-Request-ID), for records that should point at its log lines."""
    return log_context.request_id.get()


def _validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


async def bounded_body(request: Request, limit: int) -> bytes:
    """The body, read no further than `limit` bytes: a chunked upload has no Content-Length to
    refuse up front, and reading it whole first let one request fill the node's memory."""
    too_large = PayloadTooLarge(f"body larger than {limit} bytes", limit=limit)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def body(request: Request, model: type[M]) -> M:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip() != "application/json":
        raise BadRequest("expected a JSON body (Content-Type: application/json)")
    raw = await bounded_body(request, MAX_BODY_BYTES)
    try:
        json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    # PostgreSQL cannot store NUL in text; refuse it here for every body at once.
    if b"\x00" in raw or b"\\u0000" in raw.lower():
        raise InvalidInput("strings may not contain NUL characters", code="nul_character")
    try:
        # Strict, from the JSON itself: "16000" is not a number and 0 is not a timestamp
        # (JSON's own strings still become ids, enums and ISO timestamps).
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise InvalidInput("invalid request body", errors=_validation_details(exc)) from exc


def query(request: Request, model: type[M]) -> M:
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise InvalidInput("invalid query parameters", errors=_validation_details(exc)) from exc


def path_id(request: Request, name: str) -> uuid.UUID:
    value = request.path_params[name]
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{name} is not a valid id") from exc


def respond(payload: BaseModel | list[Any] | dict[str, Any], status: int = 200) -> Response:
    """JSON of a response model, serialised by pydantic's own encoder: going through
    `model_dump` and the standard library's encoder cost more than the database reads of a
    page of history."""
    if isinstance(payload, BaseModel):
        return Response(payload.model_dump_json(), status, media_type=JSON)
    if isinstance(payload, list) and all(isinstance(p, BaseModel) for p in payload):
        body = b"[" + b",".join(p.model_dump_json().encode() for p in payload) + b"]"
        return Response(body, status, media_type=JSON)
    if isinstance(payload, list):
        content = [p.model_dump(mode="json") if isinstance(p, BaseModel) else p for p in payload]
        return JSONResponse(content, status_code=status)
    return JSONResponse(payload, status_code=status)
