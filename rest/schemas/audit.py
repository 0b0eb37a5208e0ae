"""The audit trail as the REST API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rest.schemas.courses import Limit, Offset
from rest.schemas.sessions import Instant
from rest.schemas.users import Strict

ACTIONS = (
    "user.created",
    "user.role_changed",
    "user.deactivated",
    "user.reactivated",
    "course.archived",
    "rescore.started",
    "rescore.cancelled",
)


class AuditQuery(Strict):
    actor_id: uuid.UUID | None = None
    action: str | None = Field(None, max_length=64, description=f"One of {', '.join(ACTIONS)}.")
    target_id: str | None = Field(None, max_length=64, description="A user, course or job id.")
    since: Instant | None = Field(None, description="At or after (ISO 8601 with offset).")
    until: Instant | None = Field(None, description="Before (ISO 8601 with offset).")
    limit: Limit = 50
    offset: Offset = 0


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    actor_role: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    request_id: str | None = Field(description="The request's X-Request-ID: its log lines.")
