"""What a learner should practise next: their weak words and sounds with the evidence,
exercises that hold them, and drills of them made on the fly (`storage.weak_spots`,
`storage.drills`).

A learner reads their own (`GET /v1/recommendations`) and makes drills for themselves; a
tutor reads those of a learner they teach, from the sessions of the courses they teach
(`GET /v1/tutor/learners/{id}/recommendations`), as an admin does for anyone.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.courses import ExerciseOut
from rest.schemas.recommendations import DrillIn, RecommendationsOut, RecommendationsQuery
from storage import dashboard, drills
from storage.access import Principal
from storage.errors import Conflict, NotFound
from storage.models import Enrolment, EnrolmentRole, Role
from storage.weak_spots import weak_spots

router = Router("recommendations")


async def _recommendations(
    db: AsyncSession, who: Principal, learner_id: uuid.UUID, course_id: uuid.UUID | None
) -> RecommendationsOut:
    learner = await dashboard.learner(db, who, learner_id)
    now = datetime.now(UTC)
    spots = await weak_spots(db, who, learner_id, now, course_id=course_id)
    found = await drills.matches(db, who, learner_id, spots.words, now)
    return RecommendationsOut.model_validate(
        {
            "learner": learner,
            "since": spots.since,
            "sessions_read": spots.sessions_read,
            "words": spots.words,
            "sounds": spots.sounds,
            "exercises": found,
            "drill": drills.plan(spots.words, course_id),
        }
    )


@router.route(
    "GET",
    "/v1/recommendations",
    summary="The caller's weak words and sounds, exercises that hold them, a drill of them",
    query=RecommendationsQuery,
    response=RecommendationsOut,
)
async def my_recommendations(request: Request) -> Response:
    who = await deps.principal(request, Role.LEARNER)
    q = deps.query(request, RecommendationsQuery)
    async with deps.state(request).sessions() as db:
        found = await _recommendations(db, who, who.user_id, q.course_id)
    return deps.respond(found)


@router.route(
    "GET",
    "/v1/tutor/learners/{learner_id:uuid}/recommendations",
    summary="A learner's weak words and sounds in the caller's courses, and what to practise",
    query=RecommendationsQuery,
    response=RecommendationsOut,
    errors=(404,),
)
async def learner_recommendations(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    q = deps.query(request, RecommendationsQuery)
    learner_id = deps.path_id(request, "learner_id")
    async with deps.state(request).sessions() as db:
        found = await _recommendations(db, who, learner_id, q.course_id)
    return deps.respond(found)


@router.route(
    "POST",
    "/v1/recommendations/drills",
    summary="Make (or find again) the caller's drill of their weak words in a course",
    body=DrillIn,
    response=ExerciseOut,
    status=201,
    errors=(404, 409),
    also=(200,),  # the same drill asked for again
)
async def make_drill(request: Request) -> Response:
    who = await deps.principal(request, Role.LEARNER)
    data = await deps.body(request, DrillIn)
    async with deps.state(request).sessions.begin() as db:
        enrolled = await db.get(Enrolment, (data.course_id, who.user_id))
        if enrolled is None or enrolled.role != EnrolmentRole.LEARNER.value:
            raise NotFound("course not found")
        spots = await weak_spots(db, who, who.user_id, datetime.now(UTC), course_id=data.course_id)
        plan = drills.plan(spots.words, data.course_id)
        if plan is None:
            raise Conflict(
                "no word was missed often enough in this course to drill", code="nothing_to_drill"
            )
        exercise, made = await drills.create(db, who.user_id, plan)
    return deps.respond(ExerciseOut.model_validate(exercise), status=201 if made else 200)
