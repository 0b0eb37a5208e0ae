"""Rubrics of open-response exercises: tutors of the course (and admins) write a new
version, anyone who may see the exercise reads it (`storage.rubrics`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.routes.courses import STAFF
from rest.routes.exercises import EXERCISE
from rest.schemas.rubrics import RubricIn, RubricOut, RubricQuery
from storage import audit, courses, rubrics
from storage.errors import Conflict
from storage.models import ExerciseKind

router = Router("rubrics")

RUBRIC = f"{EXERCISE}/rubric"


@router.route(
    "PUT",
    RUBRIC,
    summary="Set an open-response exercise's rubric: a new version, marked from now on",
    body=RubricIn,
    response=RubricOut,
    status=201,
    errors=(404, 409),
)
async def set_rubric(request: Request) -> Response:
    who = await deps.principal(request, *STAFF)
    data = await deps.body(request, RubricIn)
    async with deps.state(request).sessions.begin() as db:
        exercise, view = await courses.exercise(db, who, deps.path_id(request, "exercise_id"))
        view.require_manager(who)
        if exercise.kind != ExerciseKind.OPEN_RESPONSE.value:
            raise Conflict(
                "only an open-response exercise is marked against a rubric",
                code="rubric_needs_open_response",
            )
        criteria = [c.model_dump() for c in data.criteria]
        row = await rubrics.add(db, exercise.id, criteria, who.user_id)
        audit.record(
            db,
            who,
            "exercise.rubric_set",
            "exercise",
            exercise.id,
            request_id=deps.request_id(),
            version=row.version,
        )
        out = RubricOut.model_validate(row)
    return deps.respond(out, status=201)


@router.route(
    "GET",
    RUBRIC,
    summary="An exercise's rubric: the current version, or ?version=N",
    query=RubricQuery,
    response=RubricOut,
    errors=(404,),
)
async def get_rubric(request: Request) -> Response:
    who = await deps.principal(request)
    q = deps.query(request, RubricQuery)
    async with deps.state(request).sessions() as db:
        exercise, _ = await courses.exercise(db, who, deps.path_id(request, "exercise_id"))
        row = await rubrics.get(db, exercise.id, q.version)
        out = RubricOut.model_validate(row)
    return deps.respond(out)
