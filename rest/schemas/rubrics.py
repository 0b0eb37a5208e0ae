"""A rubric as tutors write it and as anyone who may see its exercise reads it."""

from __future__ import annotations

import uuid
from itertools import pairwise
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rest.schemas.sessions import UtcDatetime
from rest.schemas.users import Strict

MAX_CRITERIA = 8
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="A slug, e.g. grammar.")]


class LevelIn(Strict):
    score: int = Field(ge=0, le=100)
    descriptor: str = Field(
        min_length=1, max_length=300, description="What this level sounds like."
    )


class CriterionIn(Strict):
    key: Key
    name: str = Field(min_length=1, max_length=80)
    weight: int = Field(ge=1, le=100, description="Percent; the criteria's weights sum to 100.")
    levels: list[LevelIn] = Field(min_length=2, max_length=6, description="By increasing score.")

    @field_validator("levels")
    @classmethod
    def _ordered(cls, levels: list[LevelIn]) -> list[LevelIn]:
        scores = [level.score for level in levels]
        if any(b <= a for a, b in pairwise(scores)):
            raise ValueError("levels must be ordered by strictly increasing score")
        return levels


class RubricIn(Strict):
    """Criteria Parley measures itself (keys `fluency`, `pronunciation`, `vocabulary_range`,
    `length`) are marked from its own figures; the LLM marks the others."""

    criteria: list[CriterionIn] = Field(min_length=1, max_length=MAX_CRITERIA)

    @field_validator("criteria")
    @classmethod
    def _whole(cls, criteria: list[CriterionIn]) -> list[CriterionIn]:
        keys = [c.key for c in criteria]
        if len(set(keys)) != len(keys):
            raise ValueError("each criterion needs its own key")
        total = sum(c.weight for c in criteria)
        if total != 100:
            raise ValueError(f"the weights must sum to 100, not {total}")
        return criteria


class LevelOut(BaseModel):
    score: int
    descriptor: str


class CriterionOut(BaseModel):
    key: str
    name: str
    weight: int
    levels: list[LevelOut]


class RubricOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    exercise_id: uuid.UUID
    version: int = Field(description="1 for the first; each change adds one.")
    criteria: list[CriterionOut]
    created_at: UtcDatetime


class RubricQuery(Strict):
    version: int | None = Field(None, ge=1, description="An earlier version; default: current.")
