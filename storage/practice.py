"""Writes of the live practice flow: a session starts, then completes, fails or is cancelled.

A completed session is written in one transaction (transcript, evaluation v1, status), after
its audio is in the blob store, so history never shows a success without its parts.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import courses, schedule
from storage.access import Principal
from storage.errors import Conflict, NotFound
from storage.models import (
    Course,
    CourseStatus,
    Enrolment,
    EnrolmentRole,
    Evaluation,
    Exercise,
    ExerciseKind,
    PracticeSession,
    Role,
    SessionStatus,
    Transcript,
)
from storage.rubrics import RubricVersion, for_marking

# A session in one of these states may still end (complete, fail, be cancelled).
_LIVE = (SessionStatus.ACTIVE.value, SessionStatus.RESUMABLE.value)


@dataclass(frozen=True, slots=True)
class ExerciseInfo:
    id: uuid.UUID
    course_id: uuid.UUID
    kind: str
    title: str
    reference_text: str | None
    prompt: str | None
    time_limit_s: int | None
    # The rubric an open response is marked against (storage.rubrics): its current version
    # when the session started, kept with the session so a resume marks against the same.
    rubric: RubricVersion | None = None

    @property
    def read_aloud_text(self) -> str | None:
        """What a read-aloud exercise reads; None for an open response."""
        return self.reference_text if self.kind == ExerciseKind.READ_ALOUD.value else None


async def exercise_for(
    db: AsyncSession, exercise_id: uuid.UUID, who: Principal, *, now: datetime | None = None
) -> ExerciseInfo:
    """The exercise if `who` may practise it: enrolled in its course, or the course is
    published; staff may practise any exercise of a course they can see. Before its
    `available_from`, only the course's staff may (`storage.schedule`); anyone else is
    refused with `exercise_not_available`, which says from when."""
    mine = and_(Enrolment.course_id == Course.id, Enrolment.user_id == who.user_id)
    stmt = (
        select(Exercise, Enrolment.role)
        .join(Course, Course.id == Exercise.course_id)
        .outerjoin(Enrolment, mine)
        .where(Exercise.id == exercise_id, Exercise.archived.is_(False))
    )
    if not who.is_admin:
        stmt = stmt.where(
            Course.status != CourseStatus.ARCHIVED.value,
            or_(Course.status == CourseStatus.PUBLISHED.value, Enrolment.role.is_not(None)),
        )
    row = (await db.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("exercise not found", code="exercise_not_found")
    exercise, role = row
    staff = who.is_admin or (who.role is Role.TUTOR and role == EnrolmentRole.TUTOR.value)
    if not staff and courses.is_others_drill(exercise, who.user_id):
        raise NotFound("exercise not found", code="exercise_not_found")  # another's drill
    if not staff and not schedule.is_open(exercise, now or datetime.now(UTC)):
        assert exercise.available_from is not None  # is_open says so
        raise schedule.not_available(exercise.available_from)
    return ExerciseInfo(
        id=exercise.id,
        course_id=exercise.course_id,
        kind=exercise.kind,
        title=exercise.title,
        reference_text=exercise.reference_text,
        prompt=exercise.prompt,
        time_limit_s=exercise.time_limit_s,
        rubric=await for_marking(db, exercise.id),
    )


async def start(
    db: AsyncSession,
    *,
    session_id: uuid.UUID,
    learner_id: uuid.UUID,
    exercise: ExerciseInfo,
    audio_format: str,
    sample_rate: int,
    node_id: str,
) -> None:
    db.add(
        PracticeSession(
            id=session_id,
            learner_id=learner_id,
            exercise_id=exercise.id,
            course_id=exercise.course_id,
            status=SessionStatus.ACTIVE.value,
            audio_format=audio_format,
            audio_sample_rate=sample_rate,
            node_id=node_id,
        )
    )


@dataclass(frozen=True, slots=True)
class Outcome:
    text: str
    words: list[dict[str, Any]]
    model: str
    evaluator_name: str
    evaluator_version: str
    scores: dict[str, float | None]
    details: dict[str, Any]


async def complete(
    db: AsyncSession,
    *,
    session_id: uuid.UUID,
    audio_key: str,
    audio_duration_ms: int,
    outcome: Outcome,
    node_id: str | None = None,
) -> uuid.UUID:
    """Store the transcript and evaluation v1 and mark the session completed; returns the
    evaluation's id. `node_id`: only if the session runs on that node."""
    # First, and only while the session is live (on `node_id`): a session moved between
    # nodes could be finished twice (an old owner that never noticed the move); the first
    # one counts, the caller's transaction rolls back.
    result = await db.execute(
        update(PracticeSession)
        .where(PracticeSession.id == session_id, *_live_on(node_id))
        .values(
            status=SessionStatus.COMPLETED.value,
            ended_at=datetime.now(UTC),
            audio_blob_key=audio_key,
            audio_duration_ms=audio_duration_ms,
        )
    )
    if not getattr(result, "rowcount", 1):
        raise Conflict("the session has already ended", code="already_ended")
    evaluation = await add_result(db, session_id, outcome, version=1, is_current=True)
    return evaluation.id


async def add_result(
    db: AsyncSession,
    session_id: uuid.UUID,
    outcome: Outcome,
    *,
    version: int,
    is_current: bool,
    rescore_job_id: uuid.UUID | None = None,
) -> Evaluation:
    """Add `outcome` as a transcript and evaluation `version` of the session (flushed)."""
    transcript = Transcript(
        session_id=session_id, text=outcome.text, words=outcome.words, model=outcome.model
    )
    db.add(transcript)
    await db.flush()
    evaluation = Evaluation(
        session_id=session_id,
        transcript_id=transcript.id,
        version=version,
        is_current=is_current,
        evaluator_name=outcome.evaluator_name,
        evaluator_version=outcome.evaluator_version,
        model=outcome.model,
        accuracy=outcome.scores.get("accuracy"),
        fluency=outcome.scores.get("fluency"),
        completeness=outcome.scores.get("completeness"),
        overall=outcome.scores.get("overall"),
        details=outcome.details,
        rescore_job_id=rescore_job_id,
    )
    db.add(evaluation)
    await db.flush()
    return evaluation


def merge_feedback(details: dict[str, Any], feedback: dict[str, Any]) -> dict[str, Any]:
    """`details` with `feedback` replaced by the structured feedback; the local evaluator's
    list of tips it replaces is kept as `local_feedback`."""
    merged = dict(details)
    previous = merged.get("feedback")
    if isinstance(previous, list):
        merged["local_feedback"] = previous
    merged["feedback"] = feedback
    return merged


async def add_feedback(db: AsyncSession, session_id: uuid.UUID, feedback: dict[str, Any]) -> bool:
    """Merge `feedback` into the details of the session's current evaluation (see
    `merge_feedback`); False when the session has no current evaluation."""
    evaluation = (
        await db.scalars(
            select(Evaluation)
            .where(Evaluation.session_id == session_id, Evaluation.is_current.is_(True))
            .with_for_update()
        )
    ).one_or_none()
    if evaluation is None:
        return False
    # A new dict, so the JSON column is seen as changed (in-place edits are not tracked).
    evaluation.details = merge_feedback(evaluation.details, feedback)
    await db.flush()
    return True


async def end(
    db: AsyncSession,
    session_id: uuid.UUID,
    status: SessionStatus,
    *,
    reason: str | None = None,
    audio_key: str | None = None,
    audio_duration_ms: int | None = None,
    node_id: str | None = None,
) -> None:
    """`node_id`: only if the session runs on that node (a session taken over by another
    node is that node's to end)."""
    values: dict[str, Any] = {
        "status": status.value,
        "ended_at": datetime.now(UTC),
        "failure_reason": reason,
    }
    if audio_key is not None:
        values |= {"audio_blob_key": audio_key, "audio_duration_ms": audio_duration_ms}
    where = [PracticeSession.node_id == node_id] if node_id is not None else []
    await db.execute(
        update(PracticeSession).where(PracticeSession.id == session_id, *where).values(values)
    )


async def set_node(db: AsyncSession, session_id: uuid.UUID, node_id: str) -> bool:
    """The session continues on `node_id` (resumed there after its node was lost); False
    if it has ended meanwhile."""
    result = await db.execute(
        update(PracticeSession)
        .where(PracticeSession.id == session_id, *_live_on(None))
        .values(node_id=node_id)
    )
    return bool(getattr(result, "rowcount", 0))


def _live_on(node_id: str | None) -> list[Any]:
    conditions: list[Any] = [PracticeSession.status.in_(_LIVE)]
    if node_id is not None:
        conditions.append(PracticeSession.node_id == node_id)
    return conditions


async def set_status(db: AsyncSession, session_id: uuid.UUID, status: SessionStatus) -> None:
    await db.execute(
        update(PracticeSession).where(PracticeSession.id == session_id).values(status=status.value)
    )


async def interrupted(db: AsyncSession, session_id: uuid.UUID, node_id: str) -> bool:
    """A live session whose node stopped, kept on `node_id` for its learner to resume:
    `resumable`, so history never shows it as in progress. False if it is not live."""
    result = await db.execute(
        update(PracticeSession)
        .where(PracticeSession.id == session_id, *_live_on(None))
        .values(status=SessionStatus.RESUMABLE.value, node_id=node_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def fail_stale(
    db: AsyncSession, *, older_than: timedelta, keep: Collection[uuid.UUID] = ()
) -> int:
    """Mark sessions still live past any possible lifetime as failed (their node died),
    except those in `keep` (still resumable from this node's own store)."""
    cutoff = datetime.now(UTC) - older_than
    result = await db.execute(
        update(PracticeSession)
        .where(
            PracticeSession.status.in_([SessionStatus.ACTIVE.value, SessionStatus.RESUMABLE.value]),
            PracticeSession.started_at < cutoff,
            PracticeSession.id.not_in(list(keep)),
        )
        .values(
            status=SessionStatus.FAILED.value,
            ended_at=datetime.now(UTC),
            failure_reason="the node serving the session stopped",
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
