"""The tutor dashboard: learners with their figures, and one learner's progress."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.tutor import (
    LearnerListQuery,
    LearnerPageOut,
    LearnerStatsOut,
    ProgressOut,
    ProgressQuery,
    learner_cursor,
)
from storage import dashboard
from storage.models import Role

router = Router("tutor")


@router.route(
    "GET",
    "/v1/tutor/learners",
    summary="Learners in the caller's courses, with session count, last activity, averages",
    query=LearnerListQuery,
    response=LearnerPageOut,
    errors=(404,),
)
async def list_learners(request: Request) -> Response:
    who = deps.principal(request, Role.TUTOR, Role.ADMIN)
    q = deps.query(request, LearnerListQuery)
    async with deps.state(request).sessions() as db:
        if q.course_id is not None:
            await dashboard.check_course(db, who, q.course_id)
        found, more = await dashboard.learners(
            db, who, course_id=q.course_id, after=q.after, limit=q.limit
        )
    items = [LearnerStatsOut.model_validate(s) for s in found]
    last = items[-1].learner if more and items else None
    cursor = None if last is None else learner_cursor(last.display_name, last.id)
    return deps.respond(LearnerPageOut(items=items, next_cursor=cursor))


@router.route(
    "GET",
    "/v1/tutor/learners/{learner_id:uuid}/progress",
    summary="One learner's score series and per-exercise figures in the caller's courses",
    query=ProgressQuery,
    response=ProgressOut,
    errors=(404,),
)
async def learner_progress(request: Request) -> Response:
    who = deps.principal(request, Role.TUTOR, Role.ADMIN)
    q = deps.query(request, ProgressQuery)
    learner_id = deps.path_id(request, "learner_id")
    async with deps.state(request).sessions() as db:
        if q.course_id is not None:
            await dashboard.check_course(db, who, q.course_id)
        found = await dashboard.progress(
            db, who, learner_id, course_id=q.course_id, since=q.since, limit=q.limit
        )
    return deps.respond(ProgressOut.model_validate(found))
