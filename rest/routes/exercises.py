"""Exercises of a course: read-aloud texts and open-response prompts.

Who may do what is decided in `storage.courses`: a course the caller cannot see is 404, a
course they can see but not manage is 403. Learners are refused staff-only routes by role
before any lookup, so a learner learns nothing about which ids exist from them.
"""

from __future__ import annotations

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
)
from storage import courses
from storage.errors import Conflict, InvalidInput, PermissionDenied
from storage.models import CourseStatus, Exercise, ExerciseKind

router = Router("exercises")

EXERCISE = "/v1/exercises/{exercise_id:uuid}"


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
        fields = data.model_dump(mode="json", exclude={"position"})
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
            db, view.course.id, include_archived=q.include_archived, limit=q.limit, offset=q.offset
        )
    return deps.respond([ExerciseOut.model_validate(e) for e in found])


@router.route("GET", EXERCISE, summary="One exercise", response=ExerciseOut, errors=(404,))
async def get_exercise(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions() as db:
        # Archived exercises stay readable by id: past practice sessions still link to them.
        exercise, _ = await courses.exercise(db, who, deps.path_id(request, "exercise_id"))
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
        for field, value in data.model_dump(mode="json", exclude_unset=True).items():
            setattr(exercise, field, value)
        # Checked on the merged row: a patch may change the kind, a text, or both.
        error = kind_text_error(
            ExerciseKind(exercise.kind), exercise.reference_text, exercise.prompt
        )
        if error:
            raise InvalidInput(error, code="kind_text_mismatch")
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
        exercise.archived = True
    return deps.respond(ExerciseOut.model_validate(exercise))
