"""Rescoring jobs: create one over a scope of stored sessions, follow it, cancel it.

Tutors rescore within the courses they teach and see the jobs they started; admins rescore
anything and see every job; learners may not. The job's tasks go to the rescoring queue
(Redis, or the server's embedded queue) right after the job is committed.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.rescore import (
    EvaluatorOffer,
    JobIn,
    JobListOut,
    JobListQuery,
    JobOut,
    ModelOffer,
    OffersOut,
    OptionsIn,
)
from rest.settings import Settings
from speech.engine import evaluator_versions
from speech.evaluator import HAND_TUNED_VERSION
from storage import audit, rescore
from storage.errors import InvalidInput, ParleyError
from storage.models import Role
from workers.queue import Task, TaskQueue

log = logging.getLogger("parley")

router = Router("rescore")


class Unavailable(ParleyError):
    status = 503
    code = "unavailable"


def _queue(request: Request) -> TaskQueue:
    queue: TaskQueue | None = getattr(request.app.state, "rescore_queue", None)
    if queue is None:
        raise Unavailable(
            "rescoring is not available: configure Redis, or enable workers.embedded",
            code="rescoring_unavailable",
        )
    return queue


def _models(settings: Settings) -> tuple[str, list[str]]:
    """The default rescoring model and every model a job may name, the default first."""
    default = settings.workers.model or settings.speech.model
    return default, list(dict.fromkeys([default, *settings.workers.models]))


def _check_options(settings: Settings, options: OptionsIn) -> None:
    default, allowed = _models(settings)
    if options.model is not None and options.model not in allowed:
        raise InvalidInput(
            f"unknown model {options.model!r}; this server offers: {', '.join(sorted(allowed))}",
            code="unknown_model",
        )
    if options.evaluator is not None:
        model = options.model or default
        offered = evaluator_versions(model)
        if options.evaluator not in offered:
            raise InvalidInput(
                f"unknown evaluator {options.evaluator!r} for model {model!r}; "
                f"this server offers: {', '.join(offered)}",
                code="unknown_evaluator",
            )
    if options.llm and not settings.llm.configured:
        raise InvalidInput("no LLM is configured on this server", code="llm_not_configured")


@router.route(
    "POST",
    "/v1/rescore-jobs",
    summary="Rescore stored sessions (a scope) with new evaluator options; answers the job",
    body=JobIn,
    response=JobOut,
    status=201,
    errors=(404, 429, 503),
)
async def create_job(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    data = await deps.body(request, JobIn)
    await deps.limit(request, "rescore-jobs", "rescore_jobs_per_user", str(who.user_id))
    app = deps.state(request)
    _check_options(app.settings, data.options)
    queue = _queue(request)
    async with app.sessions.begin() as db:
        job, session_ids = await rescore.create_job(
            db,
            who,
            data.scope.to_scope(),
            data.options.model_dump(),
            max_sessions=app.settings.workers.max_job_sessions,
        )
        audit.record(
            db,
            who,
            "rescore.started",
            "rescore_job",
            job.id,
            request_id=deps.request_id(),
            sessions=len(session_ids),
            options=data.options.model_dump(mode="json"),
        )
        out = JobOut.model_validate(job)
    try:
        await queue.enqueue([Task(job.id, s) for s in session_ids])
    except (RedisError, OSError) as exc:
        log.error("cannot queue rescoring job %s: %s", job.id, exc)
        async with app.sessions.begin() as db:
            await rescore.fail_job(db, job.id, "the rescoring queue was unreachable")
        raise Unavailable("the rescoring queue is unreachable; try again later") from exc
    return deps.respond(out, 201)


@router.route(
    "GET",
    "/v1/rescore-jobs",
    summary="Rescoring jobs, newest first (tutors: their own; admins: all)",
    query=JobListQuery,
    response=JobListOut,
)
async def list_jobs(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    q = deps.query(request, JobListQuery)
    async with deps.state(request).sessions() as db:
        jobs = await rescore.list_jobs(db, who, limit=q.limit)
    return deps.respond(JobListOut(items=[JobOut.model_validate(j) for j in jobs]))


@router.route(
    "GET",
    "/v1/rescore-jobs/options",
    summary="What a rescoring job may ask for here: models, their evaluator versions, LLM",
    response=OffersOut,
)
async def job_options(request: Request) -> Response:
    await deps.principal(request, Role.TUTOR, Role.ADMIN)
    settings = deps.state(request).settings
    default, models = _models(settings)
    offers = [
        ModelOffer(
            model=model,
            default=model == default,
            evaluators=[
                EvaluatorOffer(
                    version=v, kind="hand-tuned" if v == HAND_TUNED_VERSION else "trained"
                )
                for v in evaluator_versions(model)
            ],
        )
        for model in models
    ]
    return deps.respond(OffersOut(models=offers, llm=settings.llm.configured))


@router.route(
    "GET",
    "/v1/rescore-jobs/{job_id:uuid}",
    summary="One rescoring job: status, counters, failures",
    response=JobOut,
    errors=(404,),
)
async def get_job(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    job_id = deps.path_id(request, "job_id")
    async with deps.state(request).sessions() as db:
        job = await rescore.get_job(db, who, job_id)
    return deps.respond(JobOut.model_validate(job))


@router.route(
    "POST",
    "/v1/rescore-jobs/{job_id:uuid}/cancel",
    summary="Cancel a job: tasks not yet started are skipped",
    response=JobOut,
    errors=(404, 409),
)
async def cancel_job(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    job_id = deps.path_id(request, "job_id")
    async with deps.state(request).sessions.begin() as db:
        job = await rescore.cancel_job(db, who, job_id)
        audit.record(
            db, who, "rescore.cancelled", "rescore_job", job_id, request_id=deps.request_id()
        )
        out = JobOut.model_validate(job)
    return deps.respond(out)
