"""What every log line says about where it comes from: node, request, user, session.

The ids live in context variables: set where they become known (the access-log middleware
for a request, authentication for a user, a session's start for the session) and inherited
by the tasks started from there, so a session's background work logs its own session id.
"""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id: ContextVar[str | None] = ContextVar("user_id", default=None)
session_id: ContextVar[str | None] = ContextVar("session_id", default=None)

FIELDS = ("node_id", "request_id", "user_id", "session_id")


def set_user(user: uuid.UUID) -> None:
    user_id.set(str(user))


def set_session(session: uuid.UUID) -> None:
    session_id.set(str(session))


class ContextFilter(logging.Filter):
    """Puts the ids on each record (a handler's filter, so every logger's lines get them)."""

    def __init__(self, node_id: str) -> None:
        super().__init__()
        self.node_id = node_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.node_id = self.node_id
        record.request_id = request_id.get()
        record.user_id = user_id.get()
        record.session_id = session_id.get()
        return True
