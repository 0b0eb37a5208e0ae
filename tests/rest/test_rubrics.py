"""Rubrics through the real app on SQLite and PostgreSQL: tutors write versions, refused
with the reason when they do not add up, read by anyone who sees the exercise; a session
starting on the exercise is marked against the current version, and rescoring too."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from realtime.session_codec import decode_state, encode_state
from realtime.session_store import SessionState
from storage import practice, rescore_tasks
from storage.access import Principal
from storage.models import Role
from tests.rest.conftest import Account, Api
from tests.rest.seed import ExerciseRef, session
from tests.rest.test_courses import new_course
from tests.rest.test_exercises import OPEN, new_exercise

LEVELS = [{"score": 20, "descriptor": "Rarely"}, {"score": 80, "descriptor": "Mostly"}]


def criterion(key: str, weight: Any, **changes: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "weight": weight, "levels": LEVELS} | changes


GOOD = {"criteria": [criterion("grammar", 60), criterion("fluency", 40)]}


def put(api: Api, who: Account, exercise_id: str, body: Any) -> Any:
    return api.client.put(f"/v1/exercises/{exercise_id}/rubric", json=body, headers=who.headers)


def test_tutors_write_versions_and_everyone_on_the_course_reads_them(api: Api) -> None:
    tutor, learner, other = (api.account(r) for r in (Role.TUTOR, Role.LEARNER, Role.TUTOR))
    course = new_course(api, tutor, status="published")
    exercise = new_exercise(api, tutor, course["id"], **OPEN)
    url = f"/v1/exercises/{exercise['id']}/rubric"
    assert (
        api.client.get(url, headers=learner.headers).json()["error"]["code"] == "rubric_not_found"
    )
    first = put(api, tutor, exercise["id"], GOOD)
    assert first.status_code == 201 and first.json()["version"] == 1
    changed = {"criteria": [criterion("grammar", 100)]}
    assert put(api, tutor, exercise["id"], changed).json()["version"] == 2
    current = api.client.get(url, headers=learner.headers).json()
    assert current["version"] == 2 and [c["key"] for c in current["criteria"]] == ["grammar"]
    older = api.client.get(f"{url}?version=1", headers=learner.headers).json()
    assert [c["weight"] for c in older["criteria"]] == [60, 40]
    assert api.client.get(f"{url}?version=3", headers=learner.headers).status_code == 404
    # Only the course's staff write; the trail says who did.
    assert put(api, learner, exercise["id"], GOOD).status_code == 403
    assert put(api, other, exercise["id"], GOOD).status_code == 403
    trail = api.client.get(
        "/v1/audit?action=exercise.rubric_set", headers=api.account(Role.ADMIN).headers
    )
    assert [e["details"]["version"] for e in trail.json()["items"]] == [2, 1]


def test_a_rubric_that_does_not_add_up_is_refused_with_the_reason(api: Api) -> None:
    tutor = api.account(Role.TUTOR)
    course = new_course(api, tutor)
    exercise = new_exercise(api, tutor, course["id"], **OPEN)
    for body, hint in (
        ({"criteria": [criterion("grammar", 60), criterion("fluency", 30)]}, "sum to 100, not 90"),
        ({"criteria": [criterion("grammar", 50), criterion("grammar", 50)]}, "its own key"),
        ({"criteria": [criterion("grammar", 100, levels=LEVELS[::-1])]}, "increasing"),
        ({"criteria": [criterion("Grammar!", 100)]}, "pattern"),
        ({"criteria": [criterion("grammar", 100, levels=LEVELS[:1])]}, "at least 2"),
        ({"criteria": []}, "at least 1"),
        ({"criteria": [criterion("grammar", "100")]}, "integer"),
    ):
        refused = put(api, tutor, exercise["id"], body)
        assert refused.status_code == 422, body
        assert hint in str(refused.json()["error"]), (hint, refused.json())
    reading = new_exercise(api, tutor, course["id"])
    refused = put(api, tutor, reading["id"], GOOD)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "rubric_needs_open_response"


def test_sessions_and_rescoring_are_marked_against_the_current_version(api: Api) -> None:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course = new_course(api, tutor, status="published")
    exercise = new_exercise(api, tutor, course["id"], **OPEN)
    put(api, tutor, exercise["id"], GOOD)
    put(api, tutor, exercise["id"], {"criteria": [criterion("grammar", 100)]})
    exercise_id = uuid.UUID(exercise["id"])

    async def started() -> practice.ExerciseInfo:
        async with api.state.sessions() as db:
            return await practice.exercise_for(db, exercise_id, Principal(learner.id, Role.LEARNER))

    info = api.run(started)
    assert info.rubric is not None and info.rubric.version == 2
    assert [c["key"] for c in info.rubric.criteria] == ["grammar"]
    # Kept with a live session's state, so a resumed session marks against the same.
    state = SessionState(uuid.uuid4(), learner.id, info, 16000, True, "d", 1.0, "node")
    assert decode_state({k: str(v) for k, v in encode_state(state).items()}).exercise == info

    ref = ExerciseRef(exercise_id, uuid.UUID(course["id"]))
    stored = session(api, learner, ref, datetime.now(UTC), overall=(70,))

    async def target() -> rescore_tasks.Target | None:
        async with api.state.sessions() as db:
            return await rescore_tasks.target(db, stored)

    found = api.run(target)
    assert found is not None and found.exercise.rubric == info.rubric
