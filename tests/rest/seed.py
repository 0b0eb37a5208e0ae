"""Test data written through SQLAlchemy on the app's own engine and blob store.

Sessions are created by the live websocket in production; these helpers insert the rows
that flow leaves behind (course, enrolments, exercise, session, transcript, evaluations,
audio) so REST tests can read them. `world` builds the small, fixed data set the session
and tutor tests share.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blobs import audio_key
from storage.models import (
    Course,
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
from tests.rest.conftest import Account, Api

T = TypeVar("T")

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4


def run(api: Api, build: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `build` in one committed transaction on the app's loop."""

    async def transaction() -> T:
        async with api.state.sessions.begin() as db:
            return await build(db)

    result: T = api.run(transaction)
    return result


def course(api: Api, title: str, *, tutors: list[Account], learners: list[Account]) -> uuid.UUID:
    async def build(db: AsyncSession) -> uuid.UUID:
        row = Course(title=title, status="published")
        db.add(row)
        await db.flush()
        for who, role in [(t, EnrolmentRole.TUTOR) for t in tutors] + [
            (learner, EnrolmentRole.LEARNER) for learner in learners
        ]:
            db.add(Enrolment(course_id=row.id, user_id=who.id, role=role.value))
        return row.id

    return run(api, build)


@dataclass(frozen=True)
class ExerciseRef:
    id: uuid.UUID
    course_id: uuid.UUID


def exercise(
    api: Api, course_id: uuid.UUID, title: str, *, position: int = 0, open_response: bool = False
) -> ExerciseRef:
    async def build(db: AsyncSession) -> ExerciseRef:
        kind = ExerciseKind.OPEN_RESPONSE if open_response else ExerciseKind.READ_ALOUD
        row = Exercise(
            course_id=course_id,
            kind=kind.value,
            title=title,
            position=position,
            reference_text=None if open_response else "The quick brown fox.",
            prompt="Describe your day." if open_response else None,
        )
        db.add(row)
        await db.flush()
        return ExerciseRef(row.id, course_id)

    return run(api, build)


def scores(overall: float) -> dict[str, float]:
    return {"accuracy": overall + 5, "fluency": overall - 5, "completeness": 100.0}


async def add_evaluation(db: AsyncSession, session_id: uuid.UUID, overall: float) -> int:
    """A new current evaluation of the session, demoting the previous one; its version."""
    latest = await db.scalar(
        select(func.max(Evaluation.version)).where(Evaluation.session_id == session_id)
    )
    await db.execute(
        update(Evaluation).where(Evaluation.session_id == session_id).values(is_current=False)
    )
    version = (latest or 0) + 1
    db.add(
        Evaluation(
            session_id=session_id,
            version=version,
            is_current=True,
            evaluator_name="alignment",
            evaluator_version=f"1.{version}",
            model="tiny.en",
            overall=overall,
            details={"words": [], "feedback": f"version {version}"},
            **scores(overall),
        )
    )
    await db.flush()
    return version


def session(
    api: Api,
    learner: Account,
    on: ExerciseRef,
    started_at: datetime,
    *,
    status: SessionStatus = SessionStatus.COMPLETED,
    overall: tuple[float, ...] = (),  # one evaluation per value, the last one current
    audio: bytes | None = None,
    transcript: str | None = None,
) -> uuid.UUID:
    async def build(db: AsyncSession) -> uuid.UUID:
        row = PracticeSession(
            learner_id=learner.id,
            exercise_id=on.id,
            course_id=on.course_id,
            status=status.value,
            started_at=started_at,
            ended_at=None if status is SessionStatus.ACTIVE else started_at + timedelta(seconds=9),
            audio_duration_ms=None if audio is None else 8000,
        )
        db.add(row)
        await db.flush()
        if audio is not None:
            row.audio_blob_key = audio_key(row.id)
            await api.state.blobs.put(row.audio_blob_key, audio, "audio/wav")
        if transcript is not None:
            words = [
                {"word": w, "start": i * 0.5, "end": i * 0.5 + 0.4, "probability": 0.9}
                for i, w in enumerate(transcript.split())
            ]
            db.add(Transcript(session_id=row.id, text=transcript, words=words, model="tiny.en"))
        for value in overall:
            await add_evaluation(db, row.id, value)
        return row.id

    return run(api, build)


@dataclass
class World:
    """Two courses, two tutors, three learners and seven sessions (see `world`)."""

    admin: Account
    tutor: Account  # teaches course A
    other_tutor: Account  # teaches course B
    ann: Account  # learner in A
    ben: Account  # learner in A and B
    cat: Account  # learner in B
    course_a: uuid.UUID
    course_b: uuid.UUID
    a1: ExerciseRef
    a2: ExerciseRef
    b1: ExerciseRef
    ids: dict[str, uuid.UUID] = field(default_factory=dict)


def world(api: Api) -> World:
    """Sessions (hours after T0): ann_1 A1 +1h scored 60 then 70 (current), transcript,
    audio; ann_2 A2 +2h failed; ben_1 A1 +3h 80; ben_2 B1 +4h 90; cat_1 B1 +5h active;
    ann_3 A1 +6h 50; ann_4 A1 +7h 65."""
    tutor, other = api.account(Role.TUTOR, "Tess"), api.account(Role.TUTOR, "Olga")
    ann = api.account(Role.LEARNER, "Ann")
    ben = api.account(Role.LEARNER, "Ben")
    cat = api.account(Role.LEARNER, "Cat")
    course_a = course(api, "English A", tutors=[tutor], learners=[ann, ben])
    course_b = course(api, "English B", tutors=[other], learners=[ben, cat])
    w = World(
        admin=api.account(Role.ADMIN),
        tutor=tutor,
        other_tutor=other,
        ann=ann,
        ben=ben,
        cat=cat,
        course_a=course_a,
        course_b=course_b,
        a1=exercise(api, course_a, "Fox", position=0),
        a2=exercise(api, course_a, "My day", position=1, open_response=True),
        b1=exercise(api, course_b, "Weather"),
    )
    hour = timedelta(hours=1)
    w.ids["ann_1"] = session(
        api, ann, w.a1, T0 + hour, overall=(60, 70), audio=WAV, transcript="the quick fox"
    )
    w.ids["ann_2"] = session(api, ann, w.a2, T0 + 2 * hour, status=SessionStatus.FAILED)
    w.ids["ben_1"] = session(api, ben, w.a1, T0 + 3 * hour, overall=(80,))
    w.ids["ben_2"] = session(api, ben, w.b1, T0 + 4 * hour, overall=(90,))
    w.ids["cat_1"] = session(api, cat, w.b1, T0 + 5 * hour, status=SessionStatus.ACTIVE)
    w.ids["ann_3"] = session(api, ann, w.a1, T0 + 6 * hour, overall=(50,))
    w.ids["ann_4"] = session(api, ann, w.a1, T0 + 7 * hour, overall=(65,))
    return w


def many_sessions(
    api: Api, learner: Account, on: ExerciseRef, starts: list[datetime]
) -> list[uuid.UUID]:
    """Unscored completed sessions, one per start time, in one transaction."""

    async def build(db: AsyncSession) -> list[uuid.UUID]:
        rows = [
            PracticeSession(
                learner_id=learner.id,
                exercise_id=on.id,
                course_id=on.course_id,
                status=SessionStatus.COMPLETED.value,
                started_at=start,
            )
            for start in starts
        ]
        db.add_all(rows)
        await db.flush()
        return [r.id for r in rows]

    return run(api, build)
