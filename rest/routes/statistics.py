"""A course's usage statistics (JSON and CSV) and what is due in it, for its staff.

Tutors of the course and admins only: learners are refused by role before any lookup, a
course the caller cannot see is 404 and one they can see but do not teach is 403
(`storage.courses.managed`). A learner's figures need the learner enrolled in the course as
a learner, else 404 `learner_not_found`.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.routes.courses import COURSE, STAFF
from rest.schemas.sessions import ExerciseRefOut, PersonOut
from rest.schemas.statistics import (
    CSV_COLUMNS,
    CourseStatisticsOut,
    DueExerciseOut,
    DueQuery,
    LearnerDueOut,
    LearnerStatisticsOut,
    StatisticsCsv,
    StatisticsQuery,
    SummaryOut,
)
from storage import courses, schedule, statistics
from storage.errors import NotFound
from storage.history import Person
from storage.statistics import Bucket, CourseStatistics, Summary
from storage.trend import Totals

router = Router("statistics")

LEARNER = f"{COURSE}/learners/{{learner_id:uuid}}"
CSV = "text/csv"


def _figures(totals: Totals) -> dict[str, object]:
    return {
        "sessions": totals.sessions,
        "completed": totals.completed,
        "minutes": totals.minutes,
        "scored": totals.scored,
    }


def _summary(s: Summary) -> SummaryOut:
    due = {"due": s.due.due, "completed": s.due.completed, "rate": s.due.rate}
    return SummaryOut.model_validate(
        {**_figures(s.totals), "average": s.average, "trend": s.trend, "due": due}
    )


def _bucket(b: Bucket) -> dict[str, object]:
    return {**_figures(b.totals), "average": b.average, "start": b.start, "learners": b.learners}


def _common(course_id: uuid.UUID, found: CourseStatistics) -> dict[str, object]:
    w = found.window
    return {
        "course_id": course_id,
        "period": w.period,
        "since": w.since,
        "until": w.until,
        "summary": _summary(found.summary),
        "buckets": [_bucket(b) for b in found.buckets],
    }


def _text(value: str) -> str:
    # A learner chooses their display name: one starting like a formula would run as one
    # in the tutor's spreadsheet (CSV injection), so it is quoted as text.
    return f"'{value}" if value.startswith(("=", "+", "-", "@", "\t", "\r")) else value


def _csv(rows: list[statistics.Row], filename: str) -> Response:
    def number(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        t = r.totals
        person = [r.learner.id, _text(r.learner.display_name), r.start.isoformat()]
        counts = [t.sessions, t.completed, number(t.minutes), t.scored]
        writer.writerow([*person, *counts, *(number(f.mean) for f in t.fits)])
    disposition = f'attachment; filename="{filename}"'
    return Response(
        out.getvalue(),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )


async def _learner(db: AsyncSession, request: Request, course_id: uuid.UUID) -> Person:
    found = await statistics.enrolled_learner(db, course_id, deps.path_id(request, "learner_id"))
    if found is None:
        raise NotFound("no such learner in this course", code="learner_not_found")
    return found


@router.route(
    "GET",
    f"{COURSE}/statistics",
    summary="A course's usage: totals, per day or week, per learner (its tutors, admins)",
    query=StatisticsQuery,
    response=CourseStatisticsOut,
    errors=(404,),
)
async def course_statistics(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    q = deps.query(request, StatisticsQuery)
    now = datetime.now(UTC)
    async with deps.state(request).sessions() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        found = await statistics.course(db, view.course.id, q.window(now), now=now)
    learners = [
        {"learner": PersonOut.model_validate(r.learner), "summary": _summary(r.summary)}
        for r in found.learners
    ]
    out = {**_common(view.course.id, found), "learners": learners}
    return deps.respond(CourseStatisticsOut.model_validate(out))


@router.route(
    "GET",
    f"{COURSE}/statistics.csv",
    summary="A course's usage as CSV: one row per learner and day or week with sessions",
    query=StatisticsQuery,
    response=StatisticsCsv,
    errors=(404,),
    media_type=CSV,
)
async def course_statistics_csv(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    q = deps.query(request, StatisticsQuery)
    async with deps.state(request).sessions() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        rows = await statistics.rows(db, view.course.id, q.window(datetime.now(UTC)), None)
    return _csv(rows, f"course-{view.course.id}-{q.period}.csv")


@router.route(
    "GET",
    f"{LEARNER}/statistics",
    summary="One learner's usage in a course, per day or week (its tutors, admins)",
    query=StatisticsQuery,
    response=LearnerStatisticsOut,
    errors=(404,),
)
async def learner_statistics(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    q = deps.query(request, StatisticsQuery)
    now = datetime.now(UTC)
    async with deps.state(request).sessions() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        person = await _learner(db, request, view.course.id)
        found = await statistics.learner(db, view.course.id, person.id, q.window(now), now=now)
    out = {**_common(view.course.id, found), "learner": PersonOut.model_validate(person)}
    return deps.respond(LearnerStatisticsOut.model_validate(out))


@router.route(
    "GET",
    f"{LEARNER}/statistics.csv",
    summary="One learner's usage in a course as CSV: one row per day or week with sessions",
    query=StatisticsQuery,
    response=StatisticsCsv,
    errors=(404,),
    media_type=CSV,
)
async def learner_statistics_csv(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    q = deps.query(request, StatisticsQuery)
    async with deps.state(request).sessions() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        person = await _learner(db, request, view.course.id)
        window = q.window(datetime.now(UTC))
        rows = await statistics.rows(db, view.course.id, window, person.id)
    return _csv(rows, f"learner-{person.id}-{q.period}.csv")


@router.route(
    "GET",
    f"{COURSE}/due",
    summary="Exercises with a due date, soonest first, and who completed each on time",
    query=DueQuery,
    response=list[DueExerciseOut],
    errors=(404,),
)
async def due(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    q = deps.query(request, DueQuery)
    async with deps.state(request).sessions() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        found = await schedule.due(
            db, view.course.id, since=q.since, until=q.until, limit=q.limit, offset=q.offset
        )
    out = [
        DueExerciseOut(
            exercise=ExerciseRefOut.model_validate(d.exercise),
            available_from=d.available_from,
            due_at=d.due_at,
            on_time=d.on_time,
            late=d.late,
            missing=d.missing,
            learners=[LearnerDueOut.model_validate(r) for r in d.learners],
        )
        for d in found
    ]
    return deps.respond(out)
