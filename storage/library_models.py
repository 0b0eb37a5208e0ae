"""Tables of the resource library and the text-analysis cache (`storage.library`,
`storage.analyses`), beside `storage.models` on the same metadata."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class ResourceKind(enum.StrEnum):
    VOCABULARY = "vocabulary"
    PHRASE = "phrase"
    GRAMMAR = "grammar"


LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


class TextAnalysisRow(Base):
    """One answer of `POST /v1/text/analyse`, kept per (text, level, model): asking again
    costs nothing, and a learner can save it to their library by its id."""

    __tablename__ = "text_analyses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # sha256 of the normalised text, the level and the model that answered.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    level: Mapped[str | None] = mapped_column(String(2))
    model: Mapped[str] = mapped_column(String(200))
    answer: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Resource(Base):
    """A vocabulary item, phrase or grammar point with its explanation and examples.

    Shared resources are the staff's: a tutor's belong to one course they teach, an
    admin's may belong to none (the whole school). A learner's saved resources are private
    to them. The rank's inputs are kept on the row (`storage.library.rank`): rating sum and
    count, distinct daily views, and the last use as epoch seconds, so the ranking is plain
    arithmetic that SQLite and PostgreSQL compute alike."""

    __tablename__ = "resources"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(repr(k.value) for k in ResourceKind) + ")", name="kind"
        ),
        CheckConstraint(
            "level IS NULL OR level IN (" + ", ".join(map(repr, LEVELS)) + ")", name="level"
        ),
        Index("ix_resources_course_shared", "course_id", "shared"),
        Index("ix_resources_owner", "owner_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    explanation: Mapped[str] = mapped_column(Text, default="")
    examples: Mapped[list[Any]] = mapped_column(default=list)
    level: Mapped[str | None] = mapped_column(String(2))
    course_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE")
    )
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    shared: Mapped[bool] = mapped_column()
    analysis_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("text_analyses.id", ondelete="SET NULL")
    )
    views: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    last_used_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResourceRating(Base):
    """A tutor's (or admin's) 1-5 stars for a resource; one per rater, changed in place."""

    __tablename__ = "resource_ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),)

    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    rater_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResourceView(Base):
    """Who opened a resource on which (UTC) day: a view counts once per person per day, so
    one learner reloading a page cannot lift it up the ranking."""

    __tablename__ = "resource_views"

    resource_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
