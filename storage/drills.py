"""What a learner should practise next: existing exercises that contain their weak words,
and short drills of those words made on the fly.

A drill is an ordinary read-aloud exercise of the course the words were missed in, marked
`for_learner_id`: only that learner (and the course's staff) see it, so it is practised,
scored, stored and played as model audio like any other exercise, and a tutor can follow
it in history. Asking again for the same words gives the same drill back instead of a copy.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import schedule
from storage.access import Principal, taught_course_ids
from storage.courses import not_others_drill
from storage.history import ExerciseRef
from storage.models import Course, Enrolment, EnrolmentRole, Exercise, ExerciseKind, Role
from storage.weak_spots import WeakSpot, normal

MATCHES = 5
DRILL_WORDS = 5
DRILL_PHRASES = 3
# Read-aloud texts of a course are few (tens); past this the matching stops reading.
CANDIDATES = 500


@dataclass(frozen=True, slots=True)
class ExerciseMatch:
    exercise: ExerciseRef
    course_id: uuid.UUID
    words: list[str]  # the learner's weak words it contains, weakest first


@dataclass(frozen=True, slots=True)
class DrillPlan:
    course_id: uuid.UUID
    words: list[str]
    text: str


def learner_courses(who: Principal, learner_id: uuid.UUID) -> Select[uuid.UUID]:
    """The courses the learner is enrolled in as a learner and `who` may see them in: all of
    them for the learner and admins, a tutor's own courses for a tutor."""
    stmt = select(Enrolment.course_id).where(
        Enrolment.user_id == learner_id, Enrolment.role == EnrolmentRole.LEARNER.value
    )
    if who.role is Role.TUTOR:
        stmt = stmt.where(Enrolment.course_id.in_(taught_course_ids(who.user_id)))
    return stmt


async def matches(
    db: AsyncSession, who: Principal, learner_id: uuid.UUID, words: list[WeakSpot], now: datetime
) -> list[ExerciseMatch]:
    """Open read-aloud exercises of the learner's courses holding the most weak words (the
    learner's own drills included), at most `MATCHES`."""
    if not words:
        return []
    weakness = {w.text: i for i, w in enumerate(words)}
    stmt = (
        select(
            Exercise.id, Exercise.title, Exercise.kind, Exercise.course_id, Exercise.reference_text
        )
        .join(Course, Course.id == Exercise.course_id)
        .where(
            Exercise.course_id.in_(learner_courses(who, learner_id)),
            Exercise.kind == ExerciseKind.READ_ALOUD.value,
            Exercise.archived.is_(False),
            schedule.open_clause(now),
            not_others_drill(learner_id),
        )
        .order_by(Exercise.course_id, Exercise.position, Exercise.id)
        .limit(CANDIDATES)
    )
    found: list[ExerciseMatch] = []
    for row in await db.execute(stmt):
        text = {normal(t) for t in (row.reference_text or "").split()}
        hits = sorted((w for w in weakness if w in text), key=weakness.__getitem__)
        if hits:
            ref = ExerciseRef(row.id, row.title, row.kind)
            found.append(ExerciseMatch(ref, row.course_id, hits))
    found.sort(key=lambda m: (-len(m.words), min(weakness[w] for w in m.words)))
    return found[:MATCHES]


def _sentence(phrase: str) -> str:
    phrase = phrase.strip().rstrip(",;:")
    if not phrase:
        return ""
    phrase = phrase[0].upper() + phrase[1:]
    return phrase if phrase[-1] in ".!?" else phrase + "."


def plan(words: list[WeakSpot], course_id: uuid.UUID | None = None) -> DrillPlan | None:
    """A drill of the weakest words missed in one course (the course with most of them when
    `course_id` is None): the words on their own, then the phrases they were missed in."""
    if course_id is None:
        courses = Counter(w.course_ids[0] for w in words if w.course_ids)
        if not courses:
            return None
        course_id = courses.most_common(1)[0][0]
    chosen = [w for w in words if course_id in w.course_ids][:DRILL_WORDS]
    if not chosen:
        return None
    phrases: list[str] = []
    for w in chosen:
        for example in w.examples:
            sentence = _sentence(example)
            if sentence and sentence not in phrases:
                phrases.append(sentence)
                break
    head = _sentence(", ".join(w.text for w in chosen))
    text = " ".join([head, *phrases[:DRILL_PHRASES]])
    return DrillPlan(course_id, [w.text for w in chosen], text)


async def create(
    db: AsyncSession, learner_id: uuid.UUID, drill: DrillPlan
) -> tuple[Exercise, bool]:
    """The learner's drill of this text in its course: the existing one, or a new exercise
    after the course's last; and whether it was made now."""
    existing = await db.scalar(
        select(Exercise).where(
            Exercise.course_id == drill.course_id,
            Exercise.for_learner_id == learner_id,
            Exercise.reference_text == drill.text,
            Exercise.archived.is_(False),
        )
    )
    if existing is not None:
        return existing, False
    last = await db.scalar(
        select(func.max(Exercise.position)).where(Exercise.course_id == drill.course_id)
    )
    exercise = Exercise(
        course_id=drill.course_id,
        kind=ExerciseKind.READ_ALOUD.value,
        title=f"Practice: {', '.join(drill.words[:3])}"[:200],
        reference_text=drill.text,
        position=(last or 0) + 1,
        for_learner_id=learner_id,
    )
    db.add(exercise)
    await db.flush()
    await db.refresh(exercise)
    return exercise, True
