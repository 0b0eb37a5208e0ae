"""Response models of `GET /v1/tutor/live`: sessions live right now on any node."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from rest.schemas.sessions import PersonOut, UtcDatetime


class LiveExerciseOut(BaseModel):
    id: uuid.UUID
    title: str


class LiveSessionOut(BaseModel):
    session_id: uuid.UUID
    learner: PersonOut
    exercise: LiveExerciseOut
    course_id: uuid.UUID
    node: str = Field(description="The server node holding the session.")
    started_at: UtcDatetime
    audio_ms: int = Field(description="Audio heard so far (as of the node's last heartbeat).")
    last_activity: UtcDatetime | None = Field(description="Last interim transcript or start.")


class LiveListOut(BaseModel):
    items: list[LiveSessionOut] = Field(description="Oldest first.")
    partial: bool = Field(
        description="True when other nodes could not be asked (Redis down): this node only."
    )
