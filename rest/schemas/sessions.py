"""Query, request and response models for practice-session history, detail and feedback.

Cursors are opaque to clients: base64url of a JSON array of the last row's sort key. They
are decoded while the query is validated, so a malformed one is a 422 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from rest.schemas.users import Strict
from storage.history import Keyset
from storage.models import ExerciseKind, SessionStatus

MAX_CURSOR_CHARS = 512


def _as_utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; every stored timestamp is UTC.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00+01:00; pydantic wants ValueError
        raise ValueError("datetime out of range") from exc


def _iso_text(value: object) -> object:
    # pydantic reads a number (or a query string of digits) as Unix time: `until=0.5` would
    # mean 1970. A client means an ISO 8601 instant, so anything else is refused.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value.strip()):
        raise ValueError("a timestamp is ISO 8601 text with a zone, e.g. 2026-01-31T09:00:00Z")
    try:
        # Parsed here, so that strict validation (bodies) and lax (queries) read it alike.
        return datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 timestamp: {exc}") from exc


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_as_utc)]


def encode_cursor(*parts: str) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str, size: int) -> list[str]:
    """The `size` strings packed by `encode_cursor`; ValueError on anything else."""
    if len(value) > MAX_CURSOR_CHARS:
        raise ValueError("malformed cursor: too long")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("malformed cursor: pass back next_cursor unchanged") from exc
    if not isinstance(parts, list) or len(parts) != size:
        raise ValueError("malformed cursor: pass back next_cursor unchanged")
    if not all(isinstance(p, str) and _storable(p) for p in parts):
        raise ValueError("malformed cursor: pass back next_cursor unchanged")
    return parts


def _storable(text: str) -> bool:
    # NUL and lone surrogates are valid JSON but not text PostgreSQL accepts as a parameter.
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def session_cursor(started_at: datetime, session_id: uuid.UUID) -> str:
    return encode_cursor(_as_utc(started_at).isoformat(), session_id.hex)


def session_keyset(value: str) -> Keyset:
    started_at, session_id = decode_cursor(value, 2)
    try:
        return Keyset(_as_utc(datetime.fromisoformat(started_at)), uuid.UUID(session_id))
    except ValueError as exc:
        raise ValueError("malformed cursor: pass back next_cursor unchanged") from exc


Cursor = Annotated[str, Field(max_length=MAX_CURSOR_CHARS)]
Limit = Annotated[int, Field(ge=1, le=100, description="Page size, 1..100.")]


class SessionListQuery(Strict):
    course_id: uuid.UUID | None = None
    exercise_id: uuid.UUID | None = None
    learner_id: uuid.UUID | None = None
    status: SessionStatus | None = None
    since: Instant | None = Field(None, description="Started at or after (ISO 8601 with offset).")
    until: Instant | None = Field(None, description="Started before (ISO 8601 with offset).")
    limit: Limit = 20
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page.")

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            session_keyset(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SessionListQuery:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be earlier than until")
        return self

    @property
    def after(self) -> Keyset | None:
        return None if self.cursor is None else session_keyset(self.cursor)


class Attrs(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PersonOut(Attrs):
    id: uuid.UUID
    display_name: str


class ExerciseRefOut(Attrs):
    id: uuid.UUID
    title: str
    kind: ExerciseKind


class ScoresOut(Attrs):
    """Scores 0..100; a part the evaluator did not produce is null."""

    accuracy: float | None
    fluency: float | None
    completeness: float | None
    overall: float | None


class SessionItemOut(Attrs):
    id: uuid.UUID
    learner: PersonOut
    exercise: ExerciseRefOut
    course_id: uuid.UUID
    status: SessionStatus
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    audio_duration_ms: int | None
    scores: ScoresOut | None = Field(description="Of the current evaluation; null if none.")


class SessionPageOut(BaseModel):
    items: list[SessionItemOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class TranscriptOut(Attrs):
    id: uuid.UUID
    text: str
    words: list[Any] = Field(description="[{word, start, end, probability}], seconds.")
    model: str
    created_at: UtcDatetime


class PhoneOut(BaseModel):
    """One expected phone of a word that was read (docs/protocol.md §8)."""

    phone: str = Field(description="ARPAbet, without stress (`AE`, `TH`).")
    ipa: str
    accuracy: int = Field(description="0..100: how well the audio fits this phone.")
    heard_as: str | None = Field(description="ARPAbet phone heard there; null: silence.")
    start: float = Field(description="Seconds from the start of the recording.")
    end: float


class EvaluatedWordOut(BaseModel):
    """One word of the evaluation (docs/protocol.md §8); its other fields are kept."""

    model_config = ConfigDict(extra="allow")

    expected: str | None = Field(description="The reference word; null for an extra one.")
    heard: str | None
    error_type: str = Field(
        description=(
            "`none`, `mispronunciation`, `omission`, `insertion`, `repetition`, "
            "`unexpected_break`, `missing_break` or `monotone` (the first that applies)."
        )
    )
    accuracy: int | None = Field(description="0..100; null for an inserted word.")
    start: float | None
    end: float | None
    phones: list[PhoneOut] = Field(
        default_factory=list,
        description="Its expected phones, for a reference word that was said; else empty.",
    )
    prosody_errors: list[str] = Field(
        default_factory=list,
        description=(
            "Every prosodic flag of a word read aloud: `unexpected_break`, `missing_break`, "
            "`monotone`; empty in evaluations stored before they were measured."
        ),
    )


class EvaluationDetailsOut(BaseModel):
    """The evaluator's whole result (docs/protocol.md §8): `words` as described here,
    every other field (`kind`, `scores`, `fluency`, `feedback`, ...) as stored."""

    model_config = ConfigDict(extra="allow")

    words: list[EvaluatedWordOut] = Field(default_factory=list)


class EvaluationOut(Attrs):
    id: uuid.UUID
    version: int
    is_current: bool
    evaluator_name: str
    evaluator_version: str
    model: str | None
    accuracy: float | None
    fluency: float | None
    completeness: float | None
    overall: float | None
    prosody: float | None = Field(
        default=None,
        description=(
            "0..100: rhythm, stress and intonation, from the trained scorer; null where it "
            "did not score (an open response, hand-tuned scoring, an evaluation older than "
            "it). Kept in `details.scores`, as the `final` message carries it."
        ),
    )
    details: EvaluationDetailsOut
    created_at: UtcDatetime

    @model_validator(mode="after")
    def _prosody_of_details(self) -> EvaluationOut:
        # Not a column: the evaluation's own scores, stored whole in `details`.
        scores = (self.details.model_extra or {}).get("scores")
        value = scores.get("prosody") if isinstance(scores, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.prosody = float(value)
        return self


class FeedbackOut(Attrs):
    id: uuid.UUID
    tutor: PersonOut
    rating: int
    comment: str
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SessionDetailOut(SessionItemOut):
    failure_reason: str | None
    transcript: TranscriptOut | None = Field(description="The latest transcript.")
    evaluation: EvaluationOut | None = Field(description="The current evaluation.")
    evaluations: list[EvaluationOut] = Field(description="Every version, newest first.")
    feedback: list[FeedbackOut]
    playback_url: str | None = Field(description="Where to fetch the audio; null if none.")


def _text(value: str) -> str:
    if not _storable(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


class FeedbackIn(Strict):
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000), AfterValidator(_text)] = ""
