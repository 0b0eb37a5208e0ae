"""The rescoring job API: who may rescore what, and clear 4xx answers to bad requests."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rest.app import create_app
from speech.engine import evaluator_versions
from storage.migrate import upgrade
from storage.models import Role
from tests.rest.conftest import Account, Api, cheap_passwords, make_settings
from tests.workers.conftest import Bed, build_bed, wait_job
from tests.workers.stored import Recording
from workers.settings import WorkerSettings


@pytest.fixture
def bed(api: Api, clips: list[Recording]) -> Bed:
    # No session in course A: jobs there finish at once, so these tests run no model.
    return build_bed(api, clips, in_a=0)


def post(api: Api, who: Account, body: Any, **kw: Any) -> Any:
    return api.client.post("/v1/rescore-jobs", json=body, headers=who.headers, **kw)


def scope(**parts: Any) -> dict[str, Any]:
    return {"scope": {k: str(v) for k, v in parts.items()}}


def test_learners_may_not_rescore_or_list_jobs(api: Api, bed: Bed) -> None:
    answer = post(api, bed.learner, scope(course_id=bed.course_a))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert api.client.get("/v1/rescore-jobs", headers=bed.learner.headers).status_code == 403
    assert api.client.post("/v1/rescore-jobs", json={}).status_code == 401


def test_a_tutor_rescores_only_within_the_courses_they_teach(api: Api, bed: Bed) -> None:
    for body in (
        scope(course_id=bed.course_b),
        scope(exercise_id=bed.exercise_b),
        scope(learner_id=bed.outsider.id),
    ):
        answer = post(api, bed.tutor, body)
        assert answer.status_code == 403, body
        assert "teach" in answer.json()["error"]["message"]
    # A session of course B is not even visible to the tutor of course A.
    answer = post(api, bed.tutor, {"scope": {"session_ids": [str(bed.b_sessions[0])]}})
    assert answer.status_code == 404
    assert answer.json()["error"]["details"]["session_ids"] == [str(bed.b_sessions[0])]
    # A learner of both courses: only the sessions in the tutor's course (none stored there).
    mine = post(api, bed.tutor, scope(learner_id=bed.learner.id))
    assert mine.status_code == 201 and mine.json()["total"] == 0
    assert mine.json()["status"] == "completed"
    # The admin may rescore course B; the job covers its stored session.
    theirs = post(api, bed.admin, scope(course_id=bed.course_b))
    assert theirs.status_code == 201 and theirs.json()["total"] == 1
    wait_job(api, bed.admin, theirs.json()["id"])


def test_jobs_are_visible_to_their_creator_and_admins(api: Api, bed: Bed) -> None:
    job = post(api, bed.tutor, scope(course_id=bed.course_a)).json()
    path = f"/v1/rescore-jobs/{job['id']}"
    assert api.client.get(path, headers=bed.tutor.headers).json()["id"] == job["id"]
    assert api.client.get(path, headers=bed.other_tutor.headers).status_code == 404
    assert api.client.get(path, headers=bed.admin.headers).status_code == 200
    listed = api.client.get("/v1/rescore-jobs", headers=bed.other_tutor.headers).json()
    assert listed["items"] == []
    listed = api.client.get("/v1/rescore-jobs", headers=bed.admin.headers).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]
    # Finished at once (nothing to rescore): cancelling it is a conflict.
    answer = api.client.post(f"{path}/cancel", headers=bed.tutor.headers)
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "job_finished"
    missing = f"/v1/rescore-jobs/{uuid.uuid4()}"
    assert api.client.get(missing, headers=bed.admin.headers).status_code == 404
    assert api.client.post(f"{missing}/cancel", headers=bed.admin.headers).status_code == 404
    assert api.client.get("/v1/rescore-jobs/nope", headers=bed.admin.headers).status_code == 404
    # The audit trail has the start, and no cancellation that did not happen.
    audit = api.client.get(f"/v1/audit?target_id={job['id']}", headers=bed.admin.headers)
    trail = audit.json()["items"]
    assert [(e["action"], e["actor_id"]) for e in trail] == [("rescore.started", str(bed.tutor.id))]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_input"),
        ({"scope": {}}, "invalid_input"),
        ({"scope": {"course_id": "not-a-uuid"}}, "invalid_input"),
        ({"scope": {"course_id": None}}, "invalid_input"),
        (
            {"scope": {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"}},
            "invalid_input",
        ),
        ({"scope": {"since": "2024-05-02T00:00:00"}}, "invalid_input"),  # no zone
        ({"scope": {"session_ids": ["x"] * 2}}, "invalid_input"),
        ({"scope": {"learner_id": str(uuid.uuid4())}, "extra": 1}, "invalid_input"),
        (
            {"scope": {"since": "2024-05-01T00:00:00Z"}, "options": {"model": "/etc/passwd"}},
            "unknown_model",
        ),
        (
            {"scope": {"since": "2024-05-01T00:00:00Z"}, "options": {"llm": True}},
            "llm_not_configured",
        ),
        ({"scope": {"since": "2024-05-01T00:00:00Z"}, "options": {"llm": "yes"}}, "invalid_input"),
        (
            {"scope": {"since": "2024-05-01T00:00:00Z"}, "options": {"evaluator": "9.9+nope"}},
            "unknown_evaluator",
        ),
        (
            {"scope": {"since": "2024-05-01T00:00:00Z"}, "options": {"evaluator": ""}},
            "invalid_input",
        ),
    ],
)
def test_invalid_jobs_are_refused_with_422(api: Api, body: Any, code: str) -> None:
    admin = api.account(Role.ADMIN)
    answer = post(api, admin, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == code


def test_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    headers = admin.headers | {"Content-Type": "application/json"}
    answer = api.client.post("/v1/rescore-jobs", content=b"{scope", headers=headers)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


def test_without_redis_or_the_embedded_worker_rescoring_is_unavailable(
    sqlite_url: str, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, tmp_path).model_copy(
        update={"workers": WorkerSettings(embedded=False)}
    )
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        api = Api(client)
        answer = post(api, api.account(Role.ADMIN), {"scope": {"course_id": str(uuid.uuid4())}})
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "rescoring_unavailable"


def test_a_job_names_an_evaluator_the_server_offers(api: Api, bed: Bed) -> None:
    default, hand = evaluator_versions(api.state.settings.speech.model)
    assert hand.endswith("+hand") and default != hand
    for version in (default, hand):
        body = scope(course_id=bed.course_a) | {"options": {"evaluator": version}}
        answer = post(api, bed.tutor, body)
        assert answer.status_code == 201, answer.text
        assert answer.json()["options"]["evaluator"] == version
    answer = post(api, bed.tutor, scope(course_id=bed.course_a) | {"options": {"evaluator": "1"}})
    error = answer.json()["error"]
    assert answer.status_code == 422 and error["code"] == "unknown_evaluator"
    assert default in error["message"] and hand in error["message"]
    # Another Whisper model has no trained scorer: only the hand-tuned formulas.
    assert evaluator_versions("small.en") == (hand,)


def test_the_options_a_job_may_ask_for_are_listed(
    api: Api, bed: Bed, sqlite_url: str, tmp_path: Path
) -> None:
    """What the web app's rescoring form offers: each model with its evaluator versions
    (the default first), and whether LLM feedback may be asked for."""
    assert api.client.get("/v1/rescore-jobs/options").status_code == 401
    answer = api.client.get("/v1/rescore-jobs/options", headers=bed.learner.headers)
    assert answer.status_code == 403
    default, hand = evaluator_versions(api.state.settings.speech.model)
    offers = api.client.get("/v1/rescore-jobs/options", headers=bed.tutor.headers).json()
    assert offers == {
        "models": [
            {
                "model": "bundled:tiny.en",
                "default": True,
                "evaluators": [
                    {"version": default, "kind": "trained"},
                    {"version": hand, "kind": "hand-tuned"},
                ],
            }
        ],
        "llm": False,
    }
    # Another model a job may name has the hand-tuned formulas only, and a job may use it.
    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, tmp_path).model_copy(
        update={"workers": WorkerSettings(models=["bundled:tiny.en", "small.en"])}
    )
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        other = Api(client)
        admin = other.account(Role.ADMIN)
        models = client.get("/v1/rescore-jobs/options", headers=admin.headers).json()["models"]
        assert [(m["model"], m["default"]) for m in models] == [
            ("bundled:tiny.en", True),
            ("small.en", False),
        ]
        assert models[1]["evaluators"] == [{"version": hand, "kind": "hand-tuned"}]
        # What is listed is what a job is allowed (no course: a job of no sessions).
        body = {"scope": {"course_id": str(uuid.uuid4())}, "options": {"model": "small.en"}}
        for version, status in ((hand, 201), (default, 422)):
            body["options"]["evaluator"] = version
            assert post(other, admin, body).status_code == status
