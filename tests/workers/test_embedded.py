"""Rescoring without Redis: the server's embedded worker, SQLite, the real model."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from rest.routes import rescore_jobs
from rest.settings import Settings
from speech.engine import evaluator_versions
from storage.blobs import audio_key
from storage.migrate import upgrade
from storage.models import Evaluation
from tests.rest.conftest import Api, make_settings
from tests.workers.conftest import Bed, build_bed, wait_job
from tests.workers.stored import Recording, versions
from workers.queue_db import DatabaseTaskQueue


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    """SQLite only: the embedded worker is the single-process default."""
    upgrade(sqlite_url)
    return make_settings(sqlite_url, tmp_path)


def all_versions(api: Api, session_id: uuid.UUID) -> list[Evaluation]:
    async def read() -> list[Evaluation]:
        async with api.state.sessions() as db:
            return await versions(db, session_id)

    found: list[Evaluation] = api.run(read)
    return found


def create(api: Api, bed: Bed, body: dict[str, object]) -> dict[str, object]:
    response = api.client.post("/v1/rescore-jobs", json=body, headers=bed.tutor.headers)
    assert response.status_code == 201, response.text
    job: dict[str, object] = response.json()
    return job


def test_job_adds_one_version_per_session_and_moves_the_current_pointer(
    api: Api, clips: list[Recording]
) -> None:
    bed = build_bed(api, clips, in_a=3)
    job = create(api, bed, {"scope": {"course_id": str(bed.course_a)}})
    assert job["total"] == 3 and job["status"] == "pending"
    done = wait_job(api, bed.tutor, str(job["id"]))
    assert (done["status"], done["done"], done["failed"]) == ("completed", 3, 0)
    assert done["started_at"] is not None and done["finished_at"] is not None

    for session_id in bed.a_sessions:
        old, new = all_versions(api, session_id)
        assert (old.version, old.is_current, old.rescore_job_id) == (1, False, None)
        assert (new.version, new.is_current, str(new.rescore_job_id)) == (2, True, job["id"])
        assert new.evaluator_name == old.evaluator_name and new.model == "whisper-tiny.en"
        assert new.overall is not None and new.details["transcript"]
        # What a tutor sees: both versions, the new one current.
        detail = api.client.get(f"/v1/sessions/{session_id}", headers=bed.tutor.headers).json()
        assert [e["version"] for e in detail["evaluations"]] == [2, 1]
        assert detail["evaluation"]["version"] == 2
    # Outside the scope nothing changed.
    assert [e.version for e in all_versions(api, bed.b_sessions[0])] == [1]

    # A second job that keeps the current version: a third version, v2 stays current.
    body = {"scope": {"session_ids": [str(bed.a_sessions[0])]}, "options": {"make_current": False}}
    second = wait_job(api, bed.tutor, str(create(api, bed, body)["id"]))
    assert (second["status"], second["done"]) == ("completed", 1)
    found = all_versions(api, bed.a_sessions[0])
    assert [(e.version, e.is_current) for e in found] == [(1, False), (2, True), (3, False)]


def test_a_task_that_always_fails_is_dead_lettered_and_reported(
    api: Api, clips: list[Recording]
) -> None:
    bed = build_bed(api, clips, in_a=2)
    broken = bed.a_sessions[0]
    api.run(api.state.blobs.put, audio_key(broken), b"RIFF not really a wave file", "audio/wav")
    job = create(api, bed, {"scope": {"course_id": str(bed.course_a)}})
    done = wait_job(api, bed.tutor, str(job["id"]))
    assert (done["status"], done["done"], done["failed"]) == ("completed", 1, 1)
    (failure,) = done["failures"]
    assert failure["session_id"] == str(broken)
    assert "unreadable" in failure["reason"]
    assert [e.version for e in all_versions(api, broken)] == [1]
    queue = api.client.app.state.rescore_queue  # type: ignore[attr-defined]
    assert isinstance(queue, DatabaseTaskQueue)
    (dead,) = api.run(queue.dead)
    assert (
        dead.task.session_id == broken and dead.attempts == api.state.settings.workers.max_attempts
    )


def test_a_tutor_observing_the_course_sees_the_job_progress_live(
    api: Api, clips: list[Recording]
) -> None:
    bed = build_bed(api, clips, in_a=2)
    with api.client.websocket_connect(f"/v1/ws/observe?access_token={bed.tutor.token}") as ws:
        channel = {"kind": "course", "id": str(bed.course_a)}
        ws.send_json({"type": "subscribe", "channel": channel})
        subscribed = ws.receive_json()
        assert subscribed["type"] == "subscribed"
        job = create(api, bed, {"scope": {"course_id": str(bed.course_a)}})
        events = [ws.receive_json(), ws.receive_json()]
    assert [e["offset"] for e in events] == [subscribed["offset"] + 1, subscribed["offset"] + 2]
    progress = [e["event"]["message"] for e in events]
    assert {p["type"] for p in progress} == {"rescore_progress"}
    assert {p["job_id"] for p in progress} == {job["id"]}
    assert [p["done"] for p in progress] == [1, 2] and progress[-1]["status"] == "completed"
    assert {e["event"]["session_id"] for e in events} == {str(s) for s in bed.a_sessions}


def test_a_job_scores_with_the_evaluator_it_names(api: Api, clips: list[Recording]) -> None:
    bed = build_bed(api, clips, in_a=1)
    (session_id,) = bed.a_sessions
    default, hand = evaluator_versions(api.state.settings.speech.model)
    body: dict[str, object] = {
        "scope": {"course_id": str(bed.course_a)},
        "options": {"evaluator": hand},
    }
    done = wait_job(api, bed.tutor, str(create(api, bed, body)["id"]))
    assert (done["status"], done["done"]) == ("completed", 1)
    live, rescored = all_versions(api, session_id)
    assert (live.evaluator_version, rescored.evaluator_version) == (default, hand)
    # What the tutor sees: the hand-tuned formulas give no prosody score.
    detail = api.client.get(f"/v1/sessions/{session_id}", headers=bed.tutor.headers).json()
    assert detail["evaluation"]["evaluator_version"] == hand
    assert detail["evaluation"]["prosody"] is None
    assert [e["prosody"] is None for e in detail["evaluations"]] == [True, False]


def test_a_worker_without_the_named_evaluator_fails_the_task_and_says_why(
    api: Api, clips: list[Recording], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API node of a newer release accepts a version this worker does not have: the
    worker stores nothing rather than an evaluation of its own version."""
    bed = build_bed(api, clips, in_a=1)
    (session_id,) = bed.a_sessions
    newer = "9.0.0+ridge9"
    offered = evaluator_versions(api.state.settings.speech.model)
    monkeypatch.setattr(rescore_jobs, "evaluator_versions", lambda model: (newer, *offered))
    body: dict[str, object] = {
        "scope": {"course_id": str(bed.course_a)},
        "options": {"evaluator": newer},
    }
    done = wait_job(api, bed.tutor, str(create(api, bed, body)["id"]))
    assert (done["status"], done["done"], done["failed"]) == ("failed", 0, 1)
    (failure,) = done["failures"]
    assert newer in failure["reason"] and offered[0] in failure["reason"]
    assert [e.version for e in all_versions(api, session_id)] == [1]
