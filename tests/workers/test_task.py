"""Rescoring one session twice, at once or after a crash, stores one version (real model)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
from sqlalchemy import select

from speech.llm.settings import LlmSettings
from speech.llm.stage import FeedbackStage
from storage.access import Principal
from storage.models import RescoreJob, Role
from storage.rescore import Scope, create_job
from tests.rest.conftest import Api
from tests.speech.llm_server import BASE_URL, completion, mock_client, valid_feedback
from tests.workers.conftest import build_bed
from tests.workers.stored import Recording, versions
from workers.engines import Engines
from workers.queue import Task
from workers.task import Rescorer, Result


def test_a_redelivered_task_never_adds_a_second_version(api: Api, clips: list[Recording]) -> None:
    # Two sessions, one rescored: the job is still running when the task comes again.
    bed = build_bed(api, clips, in_a=2)
    session_id = bed.a_sessions[0]
    state = api.state
    admin = Principal(bed.admin.id, Role.ADMIN)

    async def scenario() -> tuple[list[Result], Result, list[int], RescoreJob]:
        async with state.sessions.begin() as db:
            job, _ = await create_job(
                db, admin, Scope(course_id=bed.course_a), {"make_current": True}, max_sessions=10
            )
        engines = Engines(state.settings.speech, default_model=None, threads=2)
        rescorer = Rescorer(sessions=state.sessions, blobs=state.blobs, engines=engines)
        try:
            # Two deliveries of one task racing (a reclaimed task whose worker still ran).
            racing = await asyncio.gather(
                rescorer.run(Task(job.id, session_id)), rescorer.run(Task(job.id, session_id))
            )
            later = await rescorer.run(Task(job.id, session_id, failures=1))
        finally:
            engines.close()
        async with state.sessions() as db:
            found = [e.version for e in await versions(db, session_id)]
            stored = (await db.scalars(select(RescoreJob).where(RescoreJob.id == job.id))).one()
        return [r.result for r in racing], later.result, found, stored

    racing, later, found, job = api.run(scenario)
    assert sorted(racing) == [Result.ALREADY, Result.DONE]
    assert later is Result.ALREADY
    assert found == [1, 2]
    assert (job.status, job.done, job.total) == ("running", 1, 2)


def test_the_llm_option_adds_llm_feedback_to_the_new_version(
    api: Api, clips: list[Recording]
) -> None:
    bed = build_bed(api, clips, in_a=2)
    state = api.state
    admin = Principal(bed.admin.id, Role.ADMIN)
    asked: list[str] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        asked.append(request.content.decode())
        return completion(valid_feedback())

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        jobs = []
        async with state.sessions.begin() as db:
            for llm, session_id in zip((True, False), bed.a_sessions, strict=True):
                job, _ = await create_job(
                    db,
                    admin,
                    Scope(session_ids=(session_id,)),
                    {"llm": llm, "make_current": True},
                    max_sessions=10,
                )
                jobs.append(job.id)
        engines = Engines(state.settings.speech, default_model=None, threads=1)
        stage = FeedbackStage(LlmSettings(base_url=BASE_URL), client=mock_client(handler))
        rescorer = Rescorer(
            sessions=state.sessions, blobs=state.blobs, engines=engines, feedback=stage
        )
        try:
            for job_id, session_id in zip(jobs, bed.a_sessions, strict=True):
                assert (await rescorer.run(Task(job_id, session_id))).result is Result.DONE
        finally:
            engines.close()
        async with state.sessions() as db:
            with_llm = (await versions(db, bed.a_sessions[0]))[-1].details
            without = (await versions(db, bed.a_sessions[1]))[-1].details
        return with_llm, without

    with_llm, without = api.run(scenario)
    assert len(asked) == 1  # only the job that asked for it called the LLM
    assert with_llm["feedback"]["source"] == "llm" and with_llm["feedback"]["model"]
    assert isinstance(with_llm["local_feedback"], list)  # the local tips are kept beside it
    assert isinstance(without["feedback"], list)  # the local evaluator's own tips only
