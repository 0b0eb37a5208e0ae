"""Request and response bodies for courses, enrolments and exercises.

Every string and number is bounded (titles 200 characters, texts 5000, integers within
what the database columns hold), so a client's excess is a 422 and never a driver error.
NUL characters are refused for every body in `rest.deps.body`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from rest.schemas.model_audio import TtsRate, TtsVoice
from rest.schemas.sessions import Instant
from rest.schemas.users import Strict
from storage.models import CourseStatus, EnrolmentRole, ExerciseKind


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns; every stored
    # time is UTC, so say so and serialise the same way on both databases.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=5000)]
LongText = Annotated[str, Field(min_length=1, max_length=5000)]
Language = Annotated[
    str,
    Field(max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$", examples=["en", "pt-BR"]),
]
Level = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[\w+. -]+$", examples=["B1"])]
# The column is a 32-bit integer on PostgreSQL; larger values would overflow there.
Position = Annotated[int, Field(ge=0, le=1_000_000)]
TimeLimit = Annotated[int, Field(ge=1, le=3600, description="Seconds.")]
Limit = Annotated[int, Field(ge=1, le=200)]
# Bounded so a huge offset is a 422, not an integer overflow in the database driver.
Offset = Annotated[int, Field(ge=0, le=1_000_000)]


def kind_text_error(kind: ExerciseKind, reference_text: str | None, prompt: str | None) -> str:
    """Why an exercise's texts do not suit its kind, or "" when they do."""
    if kind is ExerciseKind.READ_ALOUD and reference_text is None:
        return "a read_aloud exercise needs reference_text"
    if kind is ExerciseKind.OPEN_RESPONSE and prompt is None:
        return "an open_response exercise needs a prompt"
    return ""


def schedule_error(available_from: datetime | None, due_at: datetime | None) -> str:
    """Why an exercise's dates do not fit together, or "" when they do."""
    if available_from is not None and due_at is not None and due_at <= available_from:
        return "due_at must be later than available_from"
    return ""


AVAILABLE_FROM = (
    "From when learners see and may start the exercise (ISO 8601 with offset, inclusive); "
    "null: from its creation. Its course's tutors and admins see it always."
)
DUE_AT = (
    "Deadline (ISO 8601 with offset, later than available_from); null: none. The exercise "
    "stays open after it; a session completed at or before it counts as on time."
)


class Patch(Strict):
    """A partial update: omitted fields are kept; null is refused unless the field allows it."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _nulls(self) -> Patch:
        refused = sorted(
            name for name in self.model_fields_set - self.nullable if getattr(self, name) is None
        )
        if refused:
            raise ValueError(f"may not be null: {', '.join(refused)}")
        return self


class CourseCreateIn(Strict):
    title: Title
    description: Description = ""
    language: Language = "en"
    level: Level | None = None
    status: CourseStatus = CourseStatus.DRAFT

    @model_validator(mode="after")
    def _not_archived(self) -> CourseCreateIn:
        if self.status is CourseStatus.ARCHIVED:
            raise ValueError("a new course is draft or published")
        return self


class CourseUpdateIn(Patch):
    nullable = frozenset({"level"})

    title: Title | None = None
    description: Description | None = None
    language: Language | None = None
    level: Level | None = None
    status: CourseStatus | None = None


class CourseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    language: str
    level: str | None
    status: CourseStatus
    created_by: uuid.UUID | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    enrolled: bool = Field(False, description="The caller is enrolled (as learner or tutor).")
    my_role: EnrolmentRole | None = Field(None, description="The caller's role in the course.")


class CourseListQuery(Strict):
    status: CourseStatus | None = None
    enrolled: bool | None = Field(None, description="Only courses the caller is (not) in.")
    limit: Limit = 50
    offset: Offset = 0


class MemberIn(Strict):
    user_id: uuid.UUID


class MemberOut(BaseModel):
    user_id: uuid.UUID
    display_name: str
    email: str | None  # None when the school's policy hides it (auth.tutors_see_emails)
    role: EnrolmentRole
    enrolled_at: UtcDateTime


class EnrolmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    course_id: uuid.UUID
    user_id: uuid.UUID
    role: EnrolmentRole
    created_at: UtcDateTime


class MemberListQuery(Strict):
    role: EnrolmentRole | None = None
    limit: Limit = 50
    offset: Offset = 0


class ExerciseCreateIn(Strict):
    kind: ExerciseKind
    title: Title
    reference_text: LongText | None = Field(None, description="What a read_aloud reads.")
    prompt: LongText | None = Field(None, description="What an open_response answers.")
    position: Position | None = Field(None, description="Defaults to after the last one.")
    time_limit_s: TimeLimit | None = None
    available_from: Instant | None = Field(None, description=AVAILABLE_FROM)
    due_at: Instant | None = Field(None, description=DUE_AT)
    tts_voice: TtsVoice | None = None
    tts_rate: TtsRate | None = None

    @model_validator(mode="after")
    def _texts_fit_kind(self) -> ExerciseCreateIn:
        error = kind_text_error(self.kind, self.reference_text, self.prompt)
        if error:
            raise ValueError(error)
        return self

    @model_validator(mode="after")
    def _dates_in_order(self) -> ExerciseCreateIn:
        error = schedule_error(self.available_from, self.due_at)
        if error:
            raise ValueError(error)
        return self


class ExerciseUpdateIn(Patch):
    """Dates are checked against the stored ones too: due_at stays later than available_from."""

    nullable = frozenset(
        "reference_text prompt time_limit_s available_from due_at tts_voice tts_rate".split()
    )

    kind: ExerciseKind | None = None
    title: Title | None = None
    reference_text: LongText | None = None
    prompt: LongText | None = None
    position: Position | None = None
    time_limit_s: TimeLimit | None = None
    archived: bool | None = None
    available_from: Instant | None = Field(None, description=AVAILABLE_FROM)
    due_at: Instant | None = Field(None, description=DUE_AT)
    tts_voice: TtsVoice | None = None
    tts_rate: TtsRate | None = None


class ExerciseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    course_id: uuid.UUID
    kind: ExerciseKind
    title: str
    reference_text: str | None
    prompt: str | None
    position: int
    time_limit_s: int | None
    archived: bool
    available_from: UtcDateTime | None = Field(description=AVAILABLE_FROM)
    due_at: UtcDateTime | None = Field(description=DUE_AT)
    tts_voice: str | None = Field(description="Voice of the model audio; null: the default.")
    tts_rate: int | None = Field(description="Speed of the model audio in percent; null: 100.")
    for_learner_id: uuid.UUID | None = Field(
        description="A drill made for this learner (GET /v1/recommendations): only they and "
        "the course's staff see it; null for every exercise a tutor wrote."
    )
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ExerciseListQuery(Strict):
    """Learners (and anyone not on the course's staff) are shown only the exercises open
    now; the staff see every one, with its dates."""

    include_archived: bool = Field(False, description="Staff of the course only.")
    limit: Limit = 50
    offset: Offset = 0
