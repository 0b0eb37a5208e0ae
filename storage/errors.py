"""Parley's exception tree, shared by every layer that serves users.

    ParleyError                 500  internal        (never raised for a user's mistake)
    ├── InvalidInput            422  invalid_input
    │   └── BadRequest          400  bad_request
    ├── Unauthenticated         401  unauthenticated (websocket close 4401)
    ├── PermissionDenied        403  forbidden       (websocket close 4403)
    ├── NotFound                404  not_found       (websocket close 4404)
    ├── Conflict                409  conflict
    ├── PayloadTooLarge         413  too_large       (websocket close 4413)
    └── TooManyRequests         429  too_many        (websocket close 4429)

It lives in `storage` because that is the lowest package the REST and websocket layers
share; each error knows its HTTP status and its websocket close code, and only the REST
error handler and the websocket endpoint turn it into a response.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ParleyError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    close_code: ClassVar[int] = 4500

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance override of the class default
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(ParleyError):
    status = 422
    code = "invalid_input"
    close_code = 4422


class BadRequest(InvalidInput):
    status = 400
    code = "bad_request"
    close_code = 4400


class Unauthenticated(ParleyError):
    status = 401
    code = "unauthenticated"
    close_code = 4401


class PermissionDenied(ParleyError):
    status = 403
    code = "forbidden"
    close_code = 4403


class NotFound(ParleyError):
    status = 404
    code = "not_found"
    close_code = 4404


class Conflict(ParleyError):
    status = 409
    code = "conflict"
    close_code = 4409


class PayloadTooLarge(ParleyError):
    status = 413
    code = "too_large"
    close_code = 4413


class TooManyRequests(ParleyError):
    status = 429
    code = "too_many"
    close_code = 4429


class DatabaseUnavailable(ParleyError):
    """An outage, not the client's fault: worth a retry shortly (HTTP 503 with Retry-After;
    websocket close 1013, "try again later")."""

    status = 503
    code = "database_unavailable"
    close_code = 1013
    retry_after_s = 5

    def __init__(self) -> None:
        super().__init__("the database is unavailable; retry shortly")
