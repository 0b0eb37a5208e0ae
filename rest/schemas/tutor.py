"""Query and response models of the tutor dashboard."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from rest.schemas.sessions import (
    Attrs,
    Cursor,
    ExerciseRefOut,
    Instant,
    PersonOut,
    ScoresOut,
    UtcDatetime,
    decode_cursor,
    encode_cursor,
)
from rest.schemas.users import Strict


def learner_cursor(display_name: str, learner_id: uuid.UUID) -> str:
    return encode_cursor(display_name, learner_id.hex)


def learner_keyset(value: str) -> tuple[str, uuid.UUID]:
    display_name, learner_id = decode_cursor(value, 2)
    try:
        return display_name, uuid.UUID(learner_id)
    except ValueError as exc:
        raise ValueError("malformed cursor: pass back next_cursor unchanged") from exc


class LearnerListQuery(Strict):
    course_id: uuid.UUID | None = Field(None, description="Only learners of this course.")
    limit: Annotated[int, Field(ge=1, le=100, description="Page size, 1..100.")] = 50
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page.")

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            learner_keyset(value)
        return value

    @property
    def after(self) -> tuple[str, uuid.UUID] | None:
        return None if self.cursor is None else learner_keyset(self.cursor)


class LearnerStatsOut(Attrs):
    learner: PersonOut
    session_count: int = Field(description="Sessions in the caller's courses, any status.")
    last_activity: UtcDatetime | None = Field(description="Start of the latest session.")
    average: ScoresOut = Field(description="Mean of the current evaluations' scores.")


class LearnerPageOut(BaseModel):
    items: list[LearnerStatsOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class ProgressQuery(Strict):
    course_id: uuid.UUID | None = Field(None, description="Only sessions of this course.")
    since: Instant | None = Field(None, description="Started at or after (ISO 8601 with offset).")
    limit: Annotated[int, Field(ge=1, le=1000, description="Latest N points, 1..1000.")] = 200


class ProgressPointOut(Attrs):
    session_id: uuid.UUID
    started_at: UtcDatetime
    course_id: uuid.UUID
    exercise: ExerciseRefOut
    scores: ScoresOut


class ExerciseProgressOut(Attrs):
    exercise: ExerciseRefOut
    attempts: int = Field(description="Sessions on this exercise, any status.")
    scored: int = Field(description="Completed sessions with a current evaluation.")
    best_overall: float | None
    latest_overall: float | None
    average_overall: float | None
    last_attempt_at: UtcDatetime


class ProgressOut(Attrs):
    learner: PersonOut
    series: list[ProgressPointOut] = Field(
        description="Completed, scored sessions oldest first (the latest `limit`)."
    )
    exercises: list[ExerciseProgressOut]
