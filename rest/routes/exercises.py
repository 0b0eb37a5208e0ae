"""Exercises of a course: read-aloud texts and open-response prompts.

Who may do what is decided in `storage.courses`: a course the caller cannot see is 404, a
course they can see but not manage is 403. Learners are refused staff-only routes by role
before any lookup, so a learner learns nothing about which ids exist from them.

Scheduling (`storage.schedule`): anyone not on a course's staff is listed only the exercises
open now, and reading one that opens later is 403 `exercise_not_available`, with its
`available_from` in the error's details: the practice socket says the same, so a link
shared early tells the learner when to come back instead of pretending it does not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.routes.courses import COURSE, STAFF
from rest.schemas.courses import (
    ExerciseCreateIn,
    ExerciseListQuery,
    ExerciseOut,
    ExerciseUpdateIn,
    kind_text_error,
    schedule_error,
)
from storage import audit, courses, schedule
from storage.errors import Conflict, InvalidInput, PermissionDenied
from storage.models import CourseStatus, Exercise, ExerciseKind

router = Router("exercises")

EXERCISE = "/v1/exercises/{exercise_id:uuid}"
SCHEDULE = {"available_from", "due_at"}


def _fields(
    data: ExerciseCreateIn | ExerciseUpdateIn, *, exclude: set[str], exclude_unset: bool = False
) -> dict[str, Any]:
    # JSON mode turns enums into the strings the columns hold; datetimes stay datetimes.
    fields = data.model_dump(mode="json", exclude=SCHEDULE | exclude, exclude_unset=exclude_unset)
    return fields | data.model_dump(include=SCHEDULE, exclude_unset=exclude_unset)


@router.route(
    "POST",
    f"{COURSE}/exercises",
    summary="Add an exercise to a course (a tutor of it or an admin)",
    body=ExerciseCreateIn,
    response=ExerciseOut,
    status=201,
    errors=(404, 409),
)
async def create_exercise(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    data = await deps.body(request, ExerciseCreateIn)
    async with deps.state(request).sessions.begin() as db:
        view = await courses.managed(db, who, deps.path_id(request, "course_id"))
        if view.course.status == CourseStatus.ARCHIVED.value:
            raise Conflict("course is archived", code="course_archived")
        fields = _fields(data, exclude={"position"})
        position = data.position
        if position is None:
            position = await courses.next_position(db, view.course.id)
        exercise = Exercise(course_id=view.course.id, position=position, **fields)
        db.add(exercise)
        await db.flush()
    return deps.respond(ExerciseOut.model_validate(exercise), 201)


@router.route(
    "GET",
    f"{COURSE}/exercises",
    summary="Exercises of a course, in order (archived ones for its staff on request)",
    query=ExerciseListQuery,
    response=list[ExerciseOut],
    errors=(404,),
)
async def list_exercises(request: Request) -> Response:
    who = await deps.principal(request)
    q = deps.query(request, ExerciseListQuery)
    async with deps.state(request).sessions() as db:
        view = await courses.seen(db, who, deps.path_id(request, "course_id"))
        if q.include_archived and not view.can_manage(who):
            raise PermissionDenied("only staff of this course see archived exercises")
        found = await courses.exercises(
            db,
            view.course.id,
            include_archived=q.include_archived,
            limit=q.limit,
            offset=q.offset,
            open_at=None if view.can_manage(who) else datetime.now(UTC),
            viewer=None if view.can_manage(who) else who.user_id,
        )
    return deps.respond([ExerciseOut.model_validate(e) for e in found])


@router.route(
    "GET",
    EXERCISE,
    summary="One exercise (before it opens, 403 exercise_not_available to all but its staff)",
    response=ExerciseOut,
    errors=(404,),
)
async def get_exercise(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions() as db:
        # Archived exercises stay readable by id: past practice sessions still link to them.
        exercise, view = await courses.exercise(db, who, deps.path_id(request, "exercise_id"))
    if not view.can_manage(who) and not schedule.is_open(exercise, datetime.now(UTC)):
        assert exercise.available_from is not None  # is_open says so
        raise schedule.not_available(exercise.available_from)
    return deps.respond(ExerciseOut.model_validate(exercise))


@router.route(
    "PATCH",
    EXERCISE,
    summary="Edit an exercise (a tutor of its course or an admin)",
    body=ExerciseUpdateIn,
    response=ExerciseOut,
    errors=(404,),
)
async def update_exercise(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    data = await deps.body(request, ExerciseUpdateIn)
    async with deps.state(request).sessions.begin() as db:
        exercise, view = await courses.exercise(db, who, deps.path_id(request, "exercise_id"))
        view.require_manager(who)
        was_archived = exercise.archived
        for field, value in _fields(data, exclude=set(), exclude_unset=True).items():
            setattr(exercise, field, value)
        # Checked on the merged row: a patch may change the kind, a text, or both.
        error = kind_text_error(
            ExerciseKind(exercise.kind), exercise.reference_text, exercise.prompt
        )
        if error:
            raise InvalidInput(error, code="kind_text_mismatch")
        error = schedule_error(exercise.available_from, exercise.due_at)
        if error:
            raise InvalidInput(error, code="schedule_order")
        if exercise.archived != was_archived:
            action: audit.Action = (
                "exercise.archived" if exercise.archived else "exercise.unarchived"
            )
            audit.record(db, who, action, "exercise", exercise.id, request_id=deps.request_id())
    return deps.respond(ExerciseOut.model_validate(exercise))


@router.route(
    "POST",
    f"{EXERCISE}/archive",
    summary="Archive an exercise (a tutor of its course or an admin)",
    response=ExerciseOut,
    errors=(404,),
)
async def archive_exercise(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    async with deps.state(request).sessions.begin() as db:
        exercise, view = await courses.exercise(db, who, deps.path_id(request, "exercise_id"))
        view.require_manager(who)
        if not exercise.archived:
            exercise.archived = True
            audit.record(
                db, who, "exercise.archived", "exercise", exercise.id, request_id=deps.request_id()
            )
    return deps.respond(ExerciseOut.model_validate(exercise))
