"""The tutor dashboard: learners with their figures, and one learner's progress."""

from __future__ import annotations

import logging
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.live import LiveExerciseOut, LiveListOut, LiveSessionOut
from rest.schemas.sessions import PersonOut
from rest.schemas.tutor import (
    LearnerListQuery,
    LearnerPageOut,
    LearnerStatsOut,
    ProgressOut,
    ProgressQuery,
    learner_cursor,
)
from storage import dashboard, live
from storage.models import Role

router = Router("tutor")
log = logging.getLogger("parley.tutor")


@router.route(
    "GET",
    "/v1/tutor/learners",
    summary="Learners in the caller's courses, with session count, last activity, averages",
    query=LearnerListQuery,
    response=LearnerPageOut,
    errors=(404,),
)
async def list_learners(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
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
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    q = deps.query(request, ProgressQuery)
    learner_id = deps.path_id(request, "learner_id")
    async with deps.state(request).sessions() as db:
        if q.course_id is not None:
            await dashboard.check_course(db, who, q.course_id)
        found = await dashboard.progress(
            db, who, learner_id, course_id=q.course_id, since=q.since, limit=q.limit
        )
    return deps.respond(ProgressOut.model_validate(found))


@router.route(
    "GET",
    "/v1/tutor/live",
    summary="Sessions live right now on any node, of learners in the caller's courses",
    response=LiveListOut,
)
async def live_sessions(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    state = deps.state(request)
    assert state.hub is not None
    partial = False
    try:
        found = await state.hub.live()
    except Exception as exc:  # Redis down: this node still knows its own sessions
        log.warning("reading presence failed: %s", exc)
        found, partial = state.hub.local_live(), True
    async with state.sessions() as db:
        courses = await live.visible_courses(db, who)
        shown = [s for s in found if courses is None or s.course_id in courses]
        names = await live.display_names(db, {s.learner_id for s in shown})
    items = [
        LiveSessionOut(
            session_id=s.session_id,
            learner=PersonOut(id=s.learner_id, display_name=names.get(s.learner_id, "")),
            exercise=LiveExerciseOut(id=s.exercise_id, title=s.exercise_title),
            course_id=s.course_id,
            node=s.node,
            started_at=datetime.fromisoformat(s.started_at),
            audio_ms=s.audio_ms,
            last_activity=datetime.fromisoformat(s.last_activity) if s.last_activity else None,
        )
        for s in sorted(shown, key=lambda s: s.started_at)
    ]
    return deps.respond(LiveListOut(items=items, partial=partial))
