"""The audit trail as the REST API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rest.schemas.sessions import (
    Cursor,
    Instant,
    Limit,
    UtcDatetime,
    decode_cursor,
    encode_cursor,
)
from rest.schemas.users import Strict
from storage.audit import Action, Position, TargetType
from storage.history import as_utc


def audit_cursor(position: Position) -> str:
    return encode_cursor(position.at.isoformat(), position.id.hex)


def audit_position(value: str) -> Position:
    at, event_id = decode_cursor(value, 2)
    try:
        return Position(as_utc(datetime.fromisoformat(at)), uuid.UUID(event_id))
    except ValueError as exc:
        raise ValueError("malformed cursor: pass back next_cursor unchanged") from exc


class AuditQuery(Strict):
    actor_id: uuid.UUID | None = Field(None, description="Who acted.")
    action: Action | None = Field(None, description="One kind of action.")
    target_type: TargetType | None = Field(None, description="What was acted on.")
    target_id: str | None = Field(None, max_length=64, description="A user, course or job id.")
    since: Instant | None = Field(None, description="At or after (ISO 8601 with offset).")
    until: Instant | None = Field(None, description="Before (ISO 8601 with offset).")
    limit: Limit = 50
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page.")

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            audit_position(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> AuditQuery:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be earlier than until")
        return self

    @property
    def after(self) -> Position | None:
        return None if self.cursor is None else audit_position(self.cursor)


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: UtcDatetime
    actor_id: uuid.UUID | None
    actor_role: str
    # Plain text out, so that an event of an action retired since still reads.
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    request_id: str | None = Field(description="The request's X-Request-ID: its log lines.")


class AuditPageOut(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
