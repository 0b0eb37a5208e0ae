"""Rescoring an open response re-marks it against its exercise's current rubric version,
also without the LLM, and every evaluation keeps the version it was marked against (real
model, both databases)."""

from __future__ import annotations

import uuid
from typing import Any

from realtime.recorder import DatabaseRecorder
from speech.llm.local import local_result
from speech.llm.request import FeedbackRequest
from speech.llm.rubric import Rubric
from storage.access import Principal
from storage.models import ExerciseKind, Role
from storage.practice import ExerciseInfo
from storage.rescore import Scope, create_job
from storage.rubrics import RubricVersion
from tests.rest.conftest import Api
from tests.rest.test_courses import new_course
from tests.rest.test_exercises import OPEN, new_exercise
from tests.rest.test_rubrics import LEVELS
from tests.workers.stored import Recording, store, versions
from workers.engines import Engines
from workers.queue import Task
from workers.task import Rescorer, Result


def criterion(key: str, weight: int) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "weight": weight, "levels": LEVELS}


V1 = [criterion("task_achievement", 60), criterion("fluency", 40)]
V2 = [criterion("grammar", 30), criterion("fluency", 50), criterion("length", 20)]


def test_a_rescore_marks_against_the_current_rubric_version(
    api: Api, clips: list[Recording]
) -> None:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course = new_course(api, tutor, status="published")
    created = new_exercise(api, tutor, course["id"], **OPEN, time_limit_s=20)
    url = f"/v1/exercises/{created['id']}/rubric"
    assert api.client.put(url, json={"criteria": V1}, headers=tutor.headers).status_code == 201
    state = api.state
    info = ExerciseInfo(
        id=uuid.UUID(created["id"]),
        course_id=uuid.UUID(course["id"]),
        kind=ExerciseKind.OPEN_RESPONSE.value,
        title=OPEN["title"],
        reference_text=None,
        prompt=OPEN["prompt"],
        time_limit_s=20,
        rubric=RubricVersion(1, V1),
    )
    recording = clips[0]

    async def live() -> uuid.UUID:
        # What a live session stores: evaluation v1, then its feedback marked against v1.
        session_id = await store(
            state.sessions, state.blobs, learner_id=learner.id, exercise=info, recording=recording
        )
        request = FeedbackRequest(
            kind=info.kind,
            evaluation=recording.evaluation,
            prompt=info.prompt,
            rubric=Rubric.from_stored(1, V1),
            time_limit_s=20,
        )
        recorder = DatabaseRecorder(sessions=state.sessions, blobs=state.blobs, node_id="n")
        await recorder.feedback(session_id, local_result(request, "not_configured"))
        return session_id

    session_id = api.run(live)
    assert api.client.put(url, json={"criteria": V2}, headers=tutor.headers).status_code == 201

    async def rescore() -> Result:
        async with state.sessions.begin() as db:
            job, _ = await create_job(
                db,
                Principal(tutor.id, Role.TUTOR),
                Scope(session_ids=(session_id,)),
                {"llm": False, "make_current": True},
                max_sessions=10,
            )
        engines = Engines(state.settings.speech, default_model=None, threads=2)
        try:
            rescorer = Rescorer(sessions=state.sessions, blobs=state.blobs, engines=engines)
            return (await rescorer.run(Task(job.id, session_id))).result
        finally:
            engines.close()

    assert api.run(rescore) is Result.DONE

    async def stored() -> list[tuple[int, dict[str, Any]]]:
        async with state.sessions() as db:
            return [(e.version, e.details) for e in await versions(db, session_id)]

    (v1, d1), (v2, d2) = api.run(stored)
    assert (v1, v2) == (1, 2)
    assert d1["feedback"]["rubric_result"]["version"] == 1
    marked = d2["feedback"]["rubric_result"]
    assert marked["version"] == 2
    assert d2["feedback"]["reason"] == "not_requested"
    assert [c["key"] for c in marked["criteria"]] == ["grammar", "fluency", "length"]
    grammar, fluency, length = marked["criteria"]
    assert (grammar["assessed"], grammar["score"]) == (False, None)
    assert (fluency["source"], fluency["score"]) == ("parley", d2["scores"]["fluency"])
    assert length["assessed"] and length["justification"].endswith("s spoken of 20 s.")
    assert marked["weight_assessed"] == 70

    detail = api.client.get(f"/v1/sessions/{session_id}", headers=tutor.headers).json()
    assert detail["evaluation"]["details"]["feedback"]["rubric_result"] == marked
