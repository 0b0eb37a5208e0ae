"""SQLAlchemy models: the schema every other package reads and writes.

Ids are UUIDs so that they can be handed to clients without revealing counts or inviting
enumeration. Timestamps are timezone-aware UTC. Enumerated values are stored as short
strings with CHECK constraints (portable between SQLite and PostgreSQL, and cheap to extend
in a migration).
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend: SQLite hands back naive datetimes otherwise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: Parley stores timezone-aware UTC only")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Role(enum.StrEnum):
    LEARNER = "learner"
    TUTOR = "tutor"
    ADMIN = "admin"


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ExerciseKind(enum.StrEnum):
    READ_ALOUD = "read_aloud"
    OPEN_RESPONSE = "open_response"


class EnrolmentRole(enum.StrEnum):
    LEARNER = "learner"
    TUTOR = "tutor"


class SessionStatus(enum.StrEnum):
    ACTIVE = "active"
    RESUMABLE = "resumable"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        # Pages of learners are in this order (the tutor dashboard).
        Index("ix_users_display_name", "display_name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16), default=Role.LEARNER.value)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Bumped to revoke every token issued before: each token carries the version it was
    # issued under, and a request whose version is older is refused.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RefreshToken(Base):
    """One issued refresh token. A refresh uses it up and issues the next of its family; a
    used token presented again means it was copied, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (CheckConstraint(_in("status", CourseStatus), name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="en")
    level: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT.value)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Exercise(Base):
    __tablename__ = "exercises"
    __table_args__ = (
        CheckConstraint(_in("kind", ExerciseKind), name="kind"),
        CheckConstraint(
            "(kind = 'read_aloud' AND reference_text IS NOT NULL) "
            "OR (kind = 'open_response' AND prompt IS NOT NULL)",
            name="kind_text",
        ),
        CheckConstraint("time_limit_s IS NULL OR time_limit_s > 0", name="time_limit"),
        CheckConstraint(
            "due_at IS NULL OR available_from IS NULL OR due_at > available_from",
            name="schedule",
        ),
        Index("ix_exercises_course_position", "course_id", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    reference_text: Mapped[str | None] = mapped_column(Text)
    prompt: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    time_limit_s: Mapped[int | None] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Learners neither see nor start an exercise before available_from (None: from the
    # start). due_at only marks a deadline: practice stays open after it.
    available_from: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    # Model audio (rest.model_audio): an engine's voice name and a speed in percent; None
    # takes the server's default.
    tts_voice: Mapped[str | None] = mapped_column(String(40))
    tts_rate: Mapped[int | None] = mapped_column(Integer)
    # A drill made for one learner (storage.drills): only they and the course's staff see it.
    for_learner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        CheckConstraint(_in("role", EnrolmentRole), name="role"),
        Index("ix_enrolments_user_role", "user_id", "role"),
    )

    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PracticeSession(Base):
    __tablename__ = "practice_sessions"
    __table_args__ = (
        CheckConstraint(_in("status", SessionStatus), name="status"),
        # History is read newest first per learner and per course, paged by (started_at, id).
        Index("ix_practice_sessions_learner_started", "learner_id", "started_at", "id"),
        Index("ix_practice_sessions_course_started", "course_id", "started_at", "id"),
        Index("ix_practice_sessions_started", "started_at", "id"),
        # The same, filtered by status: a tutor's failed sessions, an admin's active ones.
        Index(
            "ix_practice_sessions_course_status_started", "course_id", "status", "started_at", "id"
        ),
        Index("ix_practice_sessions_status_started", "status", "started_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    learner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    exercise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("exercises.id", ondelete="CASCADE"), index=True
    )
    # Denormalised from the exercise: tutors' history queries filter by course.
    course_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ACTIVE.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    audio_blob_key: Mapped[str | None] = mapped_column(String(512))
    audio_format: Mapped[str | None] = mapped_column(String(32))
    audio_sample_rate: Mapped[int | None] = mapped_column(Integer)
    audio_duration_ms: Mapped[int | None] = mapped_column(Integer)
    node_id: Mapped[str | None] = mapped_column(String(128))
    failure_reason: Mapped[str | None] = mapped_column(Text)


class LearnerCourseTotals(Base):
    """A learner's running totals in one course, kept by database triggers (migration 0013)
    on every change to their sessions and current evaluations, so no code path can forget
    them. A tutor's page of learners reads a few of these rows, not every session."""

    __tablename__ = "learner_course_totals"

    learner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    sessions: Mapped[int] = mapped_column(Integer, default=0)  # of any status
    last_started_at: Mapped[datetime | None] = mapped_column()
    # Sums and counts of the current evaluations' scores; a part may be missing (None).
    accuracy_sum: Mapped[float] = mapped_column(Float, default=0.0)
    accuracy_n: Mapped[int] = mapped_column(Integer, default=0)
    fluency_sum: Mapped[float] = mapped_column(Float, default=0.0)
    fluency_n: Mapped[int] = mapped_column(Integer, default=0)
    completeness_sum: Mapped[float] = mapped_column(Float, default=0.0)
    completeness_n: Mapped[int] = mapped_column(Integer, default=0)
    overall_sum: Mapped[float] = mapped_column(Float, default=0.0)
    overall_n: Mapped[int] = mapped_column(Integer, default=0)


class Transcript(Base):
    __tablename__ = "transcripts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    # [{"word", "start", "end", "probability"}], seconds from the start of the audio.
    words: Mapped[list[Any]] = mapped_column(default=list)
    model: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExerciseRubric(Base):
    """One version of an open-response exercise's rubric. Versions are never changed: a
    new one is added, and each evaluation records the version it was marked against."""

    __tablename__ = "exercise_rubrics"
    __table_args__ = (
        UniqueConstraint("exercise_id", "version", name="uq_exercise_rubrics_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    exercise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exercises.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # [{key, name, weight, levels: [{score, descriptor}]}], validated by the REST schema.
    criteria: Mapped[list[Any]] = mapped_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Evaluation(Base):
    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("session_id", "version", name="uq_evaluations_session_version"),
        # A redelivered rescoring task must never add a second version for one job.
        UniqueConstraint("session_id", "rescore_job_id", name="uq_evaluations_session_job"),
        # At most one current evaluation per session, enforced by the database.
        Index(
            "uq_evaluations_current",
            "session_id",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE")
    )
    transcript_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("transcripts.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    evaluator_name: Mapped[str] = mapped_column(String(100))
    evaluator_version: Mapped[str] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(200))
    accuracy: Mapped[float | None] = mapped_column(Float)
    fluency: Mapped[float | None] = mapped_column(Float)
    completeness: Mapped[float | None] = mapped_column(Float)
    overall: Mapped[float | None] = mapped_column(Float)
    # Per-word results, fluency figures, feedback: the evaluator's full output.
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rescore_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("rescore_jobs.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TutorFeedback(Base):
    __tablename__ = "tutor_feedback"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        UniqueConstraint("session_id", "tutor_id", name="uq_tutor_feedback_session_tutor"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("practice_sessions.id", ondelete="CASCADE")
    )
    tutor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RescoreJob(Base):
    __tablename__ = "rescore_jobs"
    __table_args__ = (CheckConstraint(_in("status", JobStatus), name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # {"course_id"|"exercise_id"|"learner_id"|"session_ids"|"since"|"until": ...}
    scope: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # {"model", "llm", "make_current"}
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING.value)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"session_id", "reason"}] for tasks that failed for good.
    failures: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class QueuedTask(Base):
    """A rescoring task of a server without Redis (`storage.task_queue`): kept in the
    database, so a restart picks up where the job was rather than forgetting it."""

    __tablename__ = "rescore_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: the queue carries what it is given, as the Redis stream does; the
    # worker checks the job and session when it runs the task.
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    dead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """One administrative action (a role change, a deactivation, a rescoring job, ...):
    who did what to what, and when. Written in the same transaction as the action."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # No foreign key: the trail outlives the accounts it names.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(64))
