"""The seeded course of the statistics tests: sessions at chosen instants, whose figures
tests/rest/test_statistics.py works out by hand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Exercise, PracticeSession, Role, SessionStatus
from tests.rest.conftest import Account, Api
from tests.rest.seed import ExerciseRef, add_evaluation, course, exercise, run

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday, long past: its due dates have passed
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
WINDOW = {"since": "2025-03-03T00:00:00Z", "until": "2025-03-12T00:00:00Z"}
COMPLETED, FAILED = SessionStatus.COMPLETED, SessionStatus.FAILED


def practised(
    api: Api,
    who: Account,
    on: ExerciseRef,
    at: datetime,
    *,
    audio_s: int | None = 60,
    overall: tuple[float, ...] = (),  # evaluations in turn; the last is current
    status: SessionStatus = COMPLETED,
) -> None:
    async def build(db: AsyncSession) -> None:
        row = PracticeSession(
            learner_id=who.id,
            exercise_id=on.id,
            course_id=on.course_id,
            status=status.value,
            started_at=at,
            ended_at=at + timedelta(minutes=10),
            audio_duration_ms=None if audio_s is None else audio_s * 1000,
        )
        db.add(row)
        await db.flush()
        for value in overall:  # accuracy = overall + 5, fluency = overall - 5, completeness 100
            await add_evaluation(db, row.id, value)

    run(api, build)


def due(api: Api, ref: ExerciseRef, at: datetime, *, archived: bool = False) -> None:
    async def build(db: AsyncSession) -> None:
        row = await db.get(Exercise, ref.id)
        assert row is not None
        row.due_at, row.archived = at, archived

    run(api, build)


@dataclass
class School:
    tutor: Account
    other_tutor: Account
    admin: Account
    ann: Account
    ben: Account
    cat: Account
    dan: Account  # a tutor of the course who practises too: not a learner, not counted
    course_id: uuid.UUID


def school(api: Api) -> School:
    """Sessions in the window [Mon 3 Mar 2025, Wed 12 Mar), days after MONDAY 00:00 UTC:

    Ann  x +0d 09:00 120 s 60 | y +0d 21:00 60 s 70 | y +2d 09:00 90 s 80 | x +7d 09:00 30 s failed
    Ben  x +1d 12:00 180 s 50 | cancelled +6d 23:00 (given as +7d 01:00+02:00), no audio
         y +8d 12:00 60 s 40 then 90 (current)
    Cat  none.  Left out: Dan's (a tutor), Ann's just before and at the window's ends,
    Ann's in another course.
    Due: x at +2d (Ann and Ben on time), y at +8d (Ann on time, Ben late), z at +9d (the
    window's end: outside), w archived.
    """
    tutor, other, dan = (api.account(Role.TUTOR, n) for n in ("Tess", "Olga", "Dan"))
    ann, ben, cat = (api.account(Role.LEARNER, n) for n in ("Ann", "Ben", "Cat"))
    course_id = course(api, "Stats", tutors=[tutor, dan], learners=[cat, ben, ann])
    elsewhere = course(api, "Elsewhere", tutors=[other], learners=[ann])
    x, y, z, w = (exercise(api, course_id, t) for t in "xyzw")
    for ref, at, archived in ((x, 2, False), (y, 8, False), (z, 9, False), (w, 1, True)):
        due(api, ref, MONDAY + at * DAY, archived=archived)
    practised(api, ann, x, MONDAY + 9 * HOUR, audio_s=120, overall=(60,))
    practised(api, ann, y, MONDAY + 21 * HOUR, audio_s=60, overall=(70,))
    practised(api, ann, y, MONDAY + 2 * DAY + 9 * HOUR, audio_s=90, overall=(80,))
    practised(api, ann, x, MONDAY + 7 * DAY + 9 * HOUR, audio_s=30, status=FAILED)
    practised(api, ben, x, MONDAY + DAY + 12 * HOUR, audio_s=180, overall=(50,))
    plus_two = datetime(2025, 3, 10, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    practised(api, ben, y, plus_two, audio_s=None, status=SessionStatus.CANCELLED)
    practised(api, ben, y, MONDAY + 8 * DAY + 12 * HOUR, audio_s=60, overall=(40, 90))
    practised(api, dan, x, MONDAY + 10 * HOUR, overall=(0,))
    practised(api, ann, x, MONDAY - timedelta(seconds=1), overall=(0,))
    practised(api, ann, x, MONDAY + 9 * DAY, overall=(0,))
    practised(api, ann, exercise(api, elsewhere, "e"), MONDAY + 9 * HOUR, overall=(0,))
    admin = api.account(Role.ADMIN)
    return School(tutor, other, admin, ann, ben, cat, dan, course_id)
