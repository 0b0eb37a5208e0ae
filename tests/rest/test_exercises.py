"""Exercises through the real app: kind rules, ordering, archiving and who may edit them."""

from __future__ import annotations

from typing import Any

from storage.models import Role
from tests.rest.conftest import Account, Api
from tests.rest.test_courses import MISSING, new_course

READ = {"kind": "read_aloud", "title": "Greetings", "reference_text": "Hola, buenos días."}
OPEN = {"kind": "open_response", "title": "Your weekend", "prompt": "Describe your weekend."}


def new_exercise(api: Api, by: Account, course_id: str, **fields: Any) -> dict[str, Any]:
    created = api.client.post(
        f"/v1/courses/{course_id}/exercises", json={**READ, **fields}, headers=by.headers
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def test_exercises_are_created_in_order_and_listed(api: Api) -> None:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course = new_course(api, tutor, status="published")
    first = new_exercise(api, tutor, course["id"], time_limit_s=60)
    assert first["position"] == 0 and first["time_limit_s"] == 60
    assert first["reference_text"] == "Hola, buenos días." and first["prompt"] is None
    second = new_exercise(api, tutor, course["id"], **OPEN)
    assert (second["kind"], second["position"]) == ("open_response", 1)
    new_exercise(api, tutor, course["id"], title="Warm-up", position=0)

    url = f"/v1/courses/{course['id']}/exercises"
    listed = api.client.get(url, headers=learner.headers)
    assert [e["title"] for e in listed.json()] == ["Greetings", "Warm-up", "Your weekend"]
    paged = api.client.get(f"{url}?limit=1&offset=2", headers=learner.headers).json()
    assert [e["title"] for e in paged] == ["Your weekend"]
    one = api.client.get(f"/v1/exercises/{second['id']}", headers=learner.headers)
    assert one.status_code == 200 and one.json() == second


def test_exercise_body_is_validated(api: Api) -> None:
    tutor = api.account(Role.TUTOR)
    course = new_course(api, tutor)
    url = f"/v1/courses/{course['id']}/exercises"
    for bad, hint in (
        ({"kind": "read_aloud", "title": "x", "prompt": "p"}, "needs reference_text"),
        ({"kind": "open_response", "title": "x", "reference_text": "r"}, "needs a prompt"),
        ({**READ, "kind": "dictation"}, "kind"),
        ({**READ, "time_limit_s": 0}, "time_limit_s"),
        ({**READ, "time_limit_s": 3601}, "time_limit_s"),
        ({**READ, "reference_text": "r" * 5001}, "reference_text"),
        ({**READ, "position": -1}, "position"),
        ({**READ, "title": ""}, "title"),
    ):
        response = api.client.post(url, json=bad, headers=tutor.headers)
        assert response.status_code == 422, bad
        assert hint in str(response.json()["error"]["details"]), response.json()
    assert api.client.get(url, headers=tutor.headers).json() == []


def test_only_the_course_staff_manage_exercises(api: Api) -> None:
    tess, tom = api.account(Role.TUTOR), api.account(Role.TUTOR)
    learner, admin = api.account(Role.LEARNER), api.account(Role.ADMIN)
    live = new_course(api, tess, status="published")
    draft = new_course(api, tess)
    url = f"/v1/courses/{live['id']}/exercises"

    refused = api.client.post(url, json=READ, headers=tom.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_course_staff"
    assert api.client.post(url, json=READ, headers=learner.headers).status_code == 403
    assert api.client.post(url, json=READ).status_code == 401
    hidden = f"/v1/courses/{draft['id']}/exercises"
    assert api.client.post(hidden, json=READ, headers=tom.headers).status_code == 404
    assert api.client.get(hidden, headers=learner.headers).status_code == 404
    missing = f"/v1/courses/{MISSING}/exercises"
    assert api.client.post(missing, json=READ, headers=admin.headers).status_code == 404

    by_admin = new_exercise(api, admin, live["id"])
    in_draft = new_exercise(api, tess, draft["id"])
    assert api.client.get(url, headers=tom.headers).json() == [by_admin]
    patch = {"title": "Mine now"}
    exercise_url = f"/v1/exercises/{by_admin['id']}"
    assert api.client.patch(exercise_url, json=patch, headers=tom.headers).status_code == 403
    assert api.client.post(f"{exercise_url}/archive", headers=tom.headers).status_code == 403
    assert api.client.patch(exercise_url, json=patch, headers=learner.headers).status_code == 403
    draft_exercise = f"/v1/exercises/{in_draft['id']}"
    assert api.client.get(draft_exercise, headers=learner.headers).status_code == 404
    assert api.client.patch(draft_exercise, json=patch, headers=tom.headers).status_code == 404
    assert api.client.get(f"/v1/exercises/{MISSING}", headers=admin.headers).status_code == 404

    api.client.post(f"/v1/courses/{draft['id']}/archive", headers=tess.headers)
    closed = api.client.post(hidden, json=READ, headers=tess.headers)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "course_archived"


def test_editing_and_archiving_an_exercise(api: Api) -> None:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course = new_course(api, tutor, status="published")
    exercise = new_exercise(api, tutor, course["id"], time_limit_s=30)
    url = f"/v1/exercises/{exercise['id']}"

    edited = api.client.patch(
        url, json={"title": "Saludos", "time_limit_s": None}, headers=tutor.headers
    )
    assert edited.status_code == 200
    assert (edited.json()["title"], edited.json()["time_limit_s"]) == ("Saludos", None)
    mismatch = api.client.patch(url, json={"kind": "open_response"}, headers=tutor.headers)
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["code"] == "kind_text_mismatch"
    assert api.client.get(url, headers=tutor.headers).json()["kind"] == "read_aloud"
    switched = api.client.patch(
        url, json={"kind": "open_response", "prompt": "Greet a friend."}, headers=tutor.headers
    )
    assert switched.json()["kind"] == "open_response"
    for bad in ({"title": None}, {"archived": None}, {"position": 2**40}, {"course_id": MISSING}):
        assert api.client.patch(url, json=bad, headers=tutor.headers).status_code == 422, bad

    archived = api.client.post(f"{url}/archive", headers=tutor.headers)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    listing = f"/v1/courses/{course['id']}/exercises"
    assert api.client.get(listing, headers=learner.headers).json() == []
    staff_view = api.client.get(f"{listing}?include_archived=true", headers=tutor.headers)
    assert [e["id"] for e in staff_view.json()] == [exercise["id"]]
    peek = api.client.get(f"{listing}?include_archived=true", headers=learner.headers)
    assert peek.status_code == 403
    # Still readable by id: past practice sessions link to it.
    assert api.client.get(url, headers=learner.headers).json()["archived"] is True
    restored = api.client.patch(url, json={"archived": False}, headers=tutor.headers)
    assert restored.json()["archived"] is False
