"""Text analysis and the resource library as the REST API shows them."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from rest.schemas.courses import Patch
from rest.schemas.sessions import Cursor, Limit, UtcDatetime, decode_cursor, encode_cursor
from rest.schemas.users import Strict
from speech.explain.schema import Explanation, Level
from storage.history import as_utc
from storage.library import NewestPosition, RankPosition
from storage.library_models import Resource, ResourceKind

ResourceText = Annotated[str, Field(min_length=1, max_length=300)]
ExplanationText = Annotated[str, Field(max_length=2000)]
Example = Annotated[str, Field(min_length=1, max_length=300)]
Examples = Annotated[list[Example], Field(max_length=10)]


class AnalyseIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="A word, a phrase or a sentence with the grammar point to explain."
    )
    level: Level | None = Field(None, description="The learner's CEFR level, A1..C2.")


class PronunciationOut(BaseModel):
    arpabet: str = Field(description="CMUdict phones with stress digits, e.g. `TH IH1 NG K`.")
    ipa: str


class AnalysisOut(BaseModel):
    analysis_id: uuid.UUID = Field(description="Save it to the library with this id.")
    text: str
    level: Level | None
    source: Literal["llm", "local"]
    model: str = Field(description="The LLM's model, or `wordnet-3.0` for Parley's dictionary.")
    reason: str | None = Field(description="Why the answer is local; null from the LLM.")
    cached: bool = Field(description="Answered from the cache of earlier analyses.")
    explanation: Explanation | None = Field(
        description="Null when Parley could not explain the text; `note` says why."
    )
    pronunciation: PronunciationOut | None = Field(description="For a single known word.")
    note: str | None = Field(description="A sentence for the learner on what is missing.")


class ResourceIn(Strict):
    """A new resource: its fields, or `analysis_id` to save a text analysis (the fields
    given beside it override the analysis's)."""

    analysis_id: uuid.UUID | None = None
    kind: ResourceKind | None = None
    text: ResourceText | None = None
    explanation: ExplanationText | None = None
    examples: Examples | None = None
    level: Level | None = None
    course_id: uuid.UUID | None = Field(
        None,
        description=(
            "A tutor's resources belong to a course they teach and are shared with it; an "
            "admin's may be school-wide (null). A learner's are private, a course optional."
        ),
    )

    @model_validator(mode="after")
    def _complete(self) -> ResourceIn:
        nulls = sorted(
            name
            for name in self.model_fields_set - {"analysis_id", "level", "course_id"}
            if getattr(self, name) is None
        )
        if nulls:
            raise ValueError(f"may not be null: {', '.join(nulls)}")
        if self.analysis_id is None and (self.kind is None or self.text is None):
            raise ValueError("give kind and text, or analysis_id")
        return self


class ResourcePatchIn(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"level"})

    kind: ResourceKind | None = None
    text: ResourceText | None = None
    explanation: ExplanationText | None = None
    examples: Examples | None = None
    level: Level | None = None


class RatingIn(Strict):
    stars: int = Field(ge=1, le=5)
    comment: Annotated[str, Field(max_length=500)] = ""


class ResourceOut(BaseModel):
    id: uuid.UUID
    kind: ResourceKind
    text: str
    explanation: str
    examples: list[str]
    level: Level | None
    course_id: uuid.UUID | None
    owner_id: uuid.UUID
    shared: bool = Field(description="Seen by the course (or school); false: the owner's own.")
    analysis_id: uuid.UUID | None
    views: int = Field(description="Distinct people a day who opened it.")
    rating_count: int
    rating_mean: float | None = Field(description="Mean of tutors' stars; null when unrated.")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class RankedResourceOut(ResourceOut):
    rank: float = Field(description="0..1: tutors' ratings, recent use and views (docs).")


class ResourcePageOut(BaseModel):
    items: list[RankedResourceOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class RatedOut(BaseModel):
    resource: ResourceOut
    my_stars: int


def resource_out(row: Resource) -> ResourceOut:
    mean = round(row.rating_sum / row.rating_count, 2) if row.rating_count else None
    return ResourceOut.model_validate({**_columns(row), "rating_mean": mean}, from_attributes=False)


def ranked_out(row: Resource, rank: float) -> RankedResourceOut:
    return RankedResourceOut.model_validate(
        {**resource_out(row).model_dump(), "rank": round(rank, 4)}
    )


def _columns(row: Resource) -> dict[str, object]:
    return {c.key: getattr(row, c.key) for c in Resource.__table__.columns}


class ResourceQuery(Strict):
    kind: ResourceKind | None = None
    level: Level | None = None
    course_id: uuid.UUID | None = None
    text: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        None, description="Found in the text or the explanation, any case."
    )
    mine: bool = Field(False, description="Only the caller's own resources.")
    sort: Literal["rank", "newest"] = "rank"
    limit: Limit = 20
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page.")

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            position(value)
        return value

    @model_validator(mode="after")
    def _same_sort(self) -> ResourceQuery:
        if self.cursor is not None:
            is_rank = isinstance(position(self.cursor), RankPosition)
            if is_rank != (self.sort == "rank"):
                raise ValueError("the cursor belongs to another sort order")
        return self

    @property
    def after(self) -> RankPosition | NewestPosition | None:
        return None if self.cursor is None else position(self.cursor)


def rank_cursor(as_of: float, rank: float, resource_id: uuid.UUID) -> str:
    return encode_cursor("rank", repr(as_of), repr(rank), resource_id.hex)


def newest_cursor(created_at: datetime, resource_id: uuid.UUID) -> str:
    return encode_cursor("newest", as_utc(created_at).isoformat(), resource_id.hex)


def position(value: str) -> RankPosition | NewestPosition:
    """The position a cursor names; ValueError for anything `rank_cursor` or
    `newest_cursor` did not make."""
    for size in (4, 3):
        try:
            parts = decode_cursor(value, size)
            if parts[0] == "rank" and size == 4:
                as_of, rank = float(parts[1]), float(parts[2])
                if math.isfinite(as_of) and math.isfinite(rank):
                    return RankPosition(as_of, rank, uuid.UUID(parts[3]))
            if parts[0] == "newest" and size == 3:
                at = as_utc(datetime.fromisoformat(parts[1]))
                return NewestPosition(at, uuid.UUID(parts[2]))
        except ValueError:
            continue
    raise ValueError("malformed cursor: pass back next_cursor unchanged")
