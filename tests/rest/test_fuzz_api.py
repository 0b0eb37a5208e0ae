"""Schemathesis against the app's own OpenAPI document, once per role.

Every operation is exercised as a learner, a tutor, an admin and anonymously: schemathesis's
coverage phase (boundary values, missing and mistyped fields, wrong methods) and 25
generated cases of valid and invalid input, derandomized so CI sends the same cases each
run. Requests go through the app's own TestClient, which holds the lifespan the seed data
was written on (schemathesis's ASGI transport would start a second one). Each answer
must be no 5xx, a status the document lists for the operation, of the listed content type
and matching its schema, and input the document calls invalid must be refused with a 4xx.
Generated path ids are often swapped for ids of seeded rows, so answers about real courses,
exercises, sessions and jobs are checked too, not only 404s.

What is left out, and why:
- Operations that change their target (PATCH, DELETE, archive, cancel) get the ids of
  scratch rows, never those of the shared data set: an archived course or a demoted account
  would turn every later case into a 404 or 401 and test nothing else. PATCH of a user
  never targets a role's own account for the same reason.
- Rescoring jobs go to a queue no worker reads: running them would load a speech model.
- Rate limits are off: a flood of generated requests would otherwise be answered 429 (which
  is documented where it can occur, and tested in test_rate_limits.py).
- No stateful phase: the document declares no links between operations.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import requests
import schemathesis
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from realtime.limit_settings import LimitSettings
from rest.api import error_statuses, openapi
from rest.app import ROUTERS, create_app
from rest.routes import docs
from storage.migrate import upgrade
from storage.models import Role
from storage.settings import RedisSettings
from tests.rest.conftest import Api, cheap_passwords, make_settings
from tests.rest.seed import T0, WAV, course, exercise, session, world
from workers.queue_memory import MemoryTaskQueue

ROLES = ("learner", "tutor", "admin", "anonymous")
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20250101,
        "generation": {
            "mode": "all",
            "max-examples": 25,
            "deterministic": True,
            "database": "none",
            # The token is the role's, set below; schemathesis must not make one up.
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)
# What the app serves at /openapi.json (test_the_fuzzed_document_is_the_one_served), built
# at import: schemathesis's fixture-loaded schemas do not work with this pytest.
DOCUMENT = openapi(ROUTERS, title=docs.TITLE, version=docs.VERSION)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

Case = schemathesis.Case[Any]
Ids = dict[str, list[str]]  # path parameter name -> ids of seeded rows


@dataclass
class Fuzzed:
    client: TestClient
    tokens: dict[str, str]
    shared: Ids  # for operations that only read or add to their target
    scratch: Ids  # for those that change it


def seed(api: Api) -> Fuzzed:
    w = world(api)
    scratch_course = course(api, "Scratch", tutors=[w.tutor], learners=[w.ben])
    scratch_exercise = exercise(api, scratch_course, "Scratch")
    scratch_session = session(api, w.ben, scratch_exercise, T0, overall=(50,), audio=WAV)
    scratch_user = api.account(Role.LEARNER, "Scratch")
    # Jobs are queued, never run: no worker reads this queue.
    api.client.app.state.rescore_queue = MemoryTaskQueue()  # type: ignore[attr-defined]
    job = api.client.post(
        "/v1/rescore-jobs", json={"scope": {"course_id": str(w.course_a)}}, headers=w.admin.headers
    )
    assert job.status_code == 201, job.text
    return Fuzzed(
        client=api.client,
        tokens={"learner": w.ben.token, "tutor": w.tutor.token, "admin": w.admin.token},
        shared={
            "course_id": [str(w.course_a), str(w.course_b)],
            "exercise_id": [str(w.a1.id), str(w.a2.id), str(w.b1.id)],
            "session_id": [str(s) for s in w.ids.values()],
            "learner_id": [str(w.ann.id), str(w.ben.id), str(w.cat.id)],
            "job_id": [job.json()["id"]],
        },
        scratch={
            "course_id": [str(scratch_course)],
            "exercise_id": [str(scratch_exercise.id)],
            "session_id": [str(scratch_session)],
            "user_id": [str(scratch_user.id)],
            "job_id": [job.json()["id"]],
        },
    )


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{folder / 'parley.db'}"
    upgrade(url)
    settings = make_settings(url, folder)
    settings.limits = LimitSettings(enabled=False)
    settings.workers.embedded = False
    app = create_app(settings, passwords=cheap_passwords())
    # A 500 is an answer to check (not_a_server_error), not an exception in the test.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield seed(Api(client))


def changes_its_target(case: Case) -> bool:
    return case.method in ("PATCH", "DELETE") or case.path.endswith(("/archive", "/cancel"))


def is_uuid(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def swap_in_known_ids(case: Case, fuzzed: Fuzzed) -> None:
    """Most generated UUIDs (by their own first digit, so runs repeat) become seeded ids."""
    known = fuzzed.scratch if changes_its_target(case) else fuzzed.shared
    for name, value in (case.path_parameters or {}).items():
        ids = known.get(name)
        digit = str(value)[:1]
        if ids and is_uuid(value) and digit in "0123456789ab":
            case.path_parameters[name] = ids[int(digit, 16) % len(ids)]


def send(client: TestClient, case: Case) -> httpx2.Response:
    """The case as `requests` puts it on the wire, sent through the app's TestClient, which
    runs the app (and its lifespan) on the loop the seed data was written on."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        cookies=kwargs.get("cookies"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
    ).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    assert body is None or isinstance(body, bytes)
    headers = {
        k: v if isinstance(v, str) else v.decode("latin-1") for k, v in prepared.headers.items()
    }
    return client.request(
        prepared.method or "GET", prepared.url or "", headers=headers, content=body
    )


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
def test_every_answer_is_documented(case: Case, role: str, fuzzed: Fuzzed) -> None:
    # A copy: schemathesis hands the same coverage cases to each role's test.
    case = case.derive()
    swap_in_known_ids(case, fuzzed)
    token = fuzzed.tokens.get(role)
    if token is not None:
        case.headers["Authorization"] = f"Bearer {token}"
    case.validate_response(send(fuzzed.client, case), checks=CHECKS)


def test_the_fuzzed_document_is_the_one_served(fuzzed: Fuzzed) -> None:
    assert fuzzed.client.get("/openapi.json").json() == DOCUMENT


def test_rate_limited_routes_document_429() -> None:
    # A 429 comes from `deps.limit`; a handler calling it must say so in its declaration.
    limited = {
        (e.method, e.path): 429 in error_statuses(e)
        for router in ROUTERS
        for e in router.endpoints
        if "deps.limit(" in inspect.getsource(e.handler)
    }
    assert len(limited) >= 5 and all(limited.values()), limited


def test_an_unready_node_answers_503_as_documented(tmp_path: Path) -> None:
    # Beyond the fuzzing's reach: its node is always ready. Port 9 (discard) is closed here.
    url = f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"
    upgrade(url)
    settings = make_settings(url, tmp_path)
    settings.redis = RedisSettings(url="redis://127.0.0.1:9/0")
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    conformance = [status_code_conformance, content_type_conformance, response_schema_conformance]
    schema["/readyz"]["GET"].Case().validate_response(response, checks=conformance)
