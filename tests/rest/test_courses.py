"""Courses and enrolment through the real app: who sees, edits and joins which course."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rest.app import create_app
from storage.migrate import upgrade
from storage.models import Role
from tests.rest.conftest import Account, Api, cheap_passwords, make_settings

MISSING = "00000000-0000-0000-0000-000000000000"


def new_course(api: Api, by: Account, **fields: Any) -> dict[str, Any]:
    created = api.client.post(
        "/v1/courses", json={"title": "Spanish for travel", **fields}, headers=by.headers
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def titles(api: Api, who: Account, query: str = "") -> list[str]:
    listed = api.client.get(f"/v1/courses{query}", headers=who.headers)
    assert listed.status_code == 200, listed.text
    return [c["title"] for c in listed.json()]


def test_tutor_creates_a_course_and_teaches_it(api: Api) -> None:
    tutor, admin = api.account(Role.TUTOR, "tess"), api.account(Role.ADMIN)
    course = new_course(api, tutor, description="Ordering food", level="A2", language="es")
    assert course["status"] == "draft" and course["level"] == "A2"
    assert course["created_by"] == str(tutor.id)
    assert course["enrolled"] is True and course["my_role"] == "tutor"
    fetched = api.client.get(f"/v1/courses/{course['id']}", headers=tutor.headers).json()
    assert fetched == course

    members = api.client.get(f"/v1/courses/{course['id']}/members", headers=admin.headers)
    assert [(m["user_id"], m["role"]) for m in members.json()] == [(str(tutor.id), "tutor")]

    # An admin's course has no tutor until one is attached.
    own = new_course(api, admin, title="Admin's", status="published")
    assert own["enrolled"] is False and own["my_role"] is None

    spec = api.client.get("/openapi.json").json()
    assert "requestBody" in spec["paths"]["/v1/courses/{course_id}/exercises"]["post"]
    assert "CourseOut" in spec["components"]["schemas"]


def test_course_creation_refusals(api: Api) -> None:
    learner, tutor = api.account(Role.LEARNER), api.account(Role.TUTOR)
    anonymous = api.client.post("/v1/courses", json={"title": "x"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "missing_token"
    refused = api.client.post("/v1/courses", json={"title": "x"}, headers=learner.headers)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"

    for bad in (
        {},
        {"title": "   "},
        {"title": "x" * 201},
        {"title": "x", "description": "d" * 5001},
        {"title": "x", "language": "english please"},
        {"title": "x", "status": "archived"},
        {"title": "x", "owner": "me"},
        ["title"],
    ):
        response = api.client.post("/v1/courses", json=bad, headers=tutor.headers)
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "invalid_input"
    nul = api.client.post("/v1/courses", json={"title": "nul\x00"}, headers=tutor.headers)
    assert nul.status_code == 422
    malformed = api.client.post(
        "/v1/courses",
        content=b'{"title": ',
        headers={**tutor.headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "bad_request"
    assert titles(api, tutor) == []


def test_who_sees_which_course(api: Api) -> None:
    tess, tom = api.account(Role.TUTOR), api.account(Role.TUTOR)
    learner, admin = api.account(Role.LEARNER), api.account(Role.ADMIN)
    draft = new_course(api, tess, title="Tess draft")
    new_course(api, tess, title="Tess live", status="published")
    new_course(api, tom, title="Tom draft")

    assert titles(api, learner) == ["Tess live"]
    assert titles(api, tess) == ["Tess draft", "Tess live"]
    assert titles(api, tom) == ["Tess live", "Tom draft"]
    assert titles(api, admin) == ["Tess draft", "Tess live", "Tom draft"]
    assert titles(api, admin, "?status=draft") == ["Tess draft", "Tom draft"]
    assert titles(api, tom, "?enrolled=true") == ["Tom draft"]
    assert titles(api, tom, "?enrolled=false") == ["Tess live"]
    assert titles(api, admin, "?limit=1&offset=1") == ["Tess live"]

    hidden = api.client.get(f"/v1/courses/{draft['id']}", headers=learner.headers)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert api.client.get(f"/v1/courses/{draft['id']}", headers=tom.headers).status_code == 404
    assert api.client.get(f"/v1/courses/{MISSING}", headers=admin.headers).status_code == 404
    assert api.client.get("/v1/courses/nope", headers=admin.headers).status_code == 404
    assert api.client.get("/v1/courses").status_code == 401
    for query in ("?limit=201", "?limit=0", "?offset=-1", "?offset=" + "9" * 20, "?sort=title"):
        assert api.client.get(f"/v1/courses{query}", headers=admin.headers).status_code == 422


def test_editing_and_archiving_a_course(api: Api) -> None:
    tess, tom = api.account(Role.TUTOR), api.account(Role.TUTOR)
    learner, admin = api.account(Role.LEARNER), api.account(Role.ADMIN)
    course = new_course(api, tess, level="B1")
    url = f"/v1/courses/{course['id']}"

    edited = api.client.patch(
        url, json={"title": "Renamed", "status": "published", "level": None}, headers=tess.headers
    )
    assert edited.status_code == 200
    body = edited.json()
    assert (body["title"], body["status"], body["level"]) == ("Renamed", "published", None)
    assert body["description"] == "" and body["my_role"] == "tutor"

    # Tom can see the published course but does not teach it; the learner is not staff.
    assert api.client.patch(url, json={"title": "Mine"}, headers=tom.headers).status_code == 403
    assert api.client.patch(url, json={"title": "M"}, headers=learner.headers).status_code == 403
    assert api.client.post(f"{url}/archive", headers=tom.headers).status_code == 403
    null_title = api.client.patch(url, json={"title": None}, headers=tess.headers)
    assert null_title.status_code == 422
    assert "title" in null_title.json()["error"]["details"]["errors"][0]["msg"]
    assert api.client.patch(url, json={"status": "gone"}, headers=tess.headers).status_code == 422
    by_admin = api.client.patch(url, json={"description": "Set by admin"}, headers=admin.headers)
    assert by_admin.json()["description"] == "Set by admin" and by_admin.json()["my_role"] is None

    assert api.client.post(f"{url}/enrol", headers=learner.headers).status_code == 200
    outsider = api.account(Role.LEARNER)
    archived = api.client.post(f"{url}/archive", headers=tess.headers)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    # An archived course stays visible to its members only.
    assert api.client.get(url, headers=learner.headers).json()["status"] == "archived"
    assert api.client.get(url, headers=outsider.headers).status_code == 404
    assert api.client.post(f"{url}/enrol", headers=outsider.headers).status_code == 404

    draft = new_course(api, tess)
    hidden = api.client.patch(
        f"/v1/courses/{draft['id']}", json={"title": "x"}, headers=tom.headers
    )
    assert hidden.status_code == 404
    assert (
        api.client.patch(f"/v1/courses/{MISSING}", json={}, headers=admin.headers).status_code
        == 404
    )


def test_learner_enrols_idempotently_and_leaves(api: Api) -> None:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course = new_course(api, tutor, status="published")
    url = f"/v1/courses/{course['id']}"

    first = api.client.post(f"{url}/enrol", headers=learner.headers)
    assert first.status_code == 200
    assert first.json()["role"] == "learner" and first.json()["user_id"] == str(learner.id)
    again = api.client.post(f"{url}/enrol", headers=learner.headers)
    assert again.status_code == 200 and again.json() == first.json()
    seen = api.client.get(url, headers=learner.headers).json()
    assert seen["enrolled"] is True and seen["my_role"] == "learner"
    assert titles(api, learner, "?enrolled=true") == ["Spanish for travel"]
    members = api.client.get(f"{url}/members?role=learner", headers=tutor.headers).json()
    assert [m["user_id"] for m in members] == [str(learner.id)]

    assert api.client.delete(f"{url}/enrol", headers=learner.headers).status_code == 204
    assert api.client.delete(f"{url}/enrol", headers=learner.headers).status_code == 204
    assert api.client.get(url, headers=learner.headers).json()["enrolled"] is False
    assert titles(api, learner, "?enrolled=true") == []

    # Only learners enrol themselves; a draft is invisible, so not found.
    assert api.client.post(f"{url}/enrol", headers=tutor.headers).status_code == 403
    draft = new_course(api, tutor)
    hidden = api.client.post(f"/v1/courses/{draft['id']}/enrol", headers=learner.headers)
    assert hidden.status_code == 404
    assert (
        api.client.post(f"/v1/courses/{MISSING}/enrol", headers=learner.headers).status_code == 404
    )
    assert api.client.post(f"{url}/enrol").status_code == 401


def test_staff_attach_tutors_and_learners(api: Api) -> None:
    tess, tom, outsider = (api.account(Role.TUTOR, n) for n in ("tess", "tom", "otto"))
    learner, admin = api.account(Role.LEARNER, "lea"), api.account(Role.ADMIN)
    course = new_course(api, tess, status="published")
    url = f"/v1/courses/{course['id']}"

    added = api.client.post(f"{url}/tutors", json={"user_id": str(tom.id)}, headers=tess.headers)
    assert added.status_code == 200
    assert (added.json()["display_name"], added.json()["role"]) == ("tom", "tutor")
    repeat = api.client.post(f"{url}/tutors", json={"user_id": str(tom.id)}, headers=admin.headers)
    assert repeat.json() == added.json()
    assert (
        api.client.patch(url, json={"title": "Co-taught"}, headers=tom.headers).status_code == 200
    )

    enrolled = api.client.post(
        f"{url}/learners", json={"user_id": str(learner.id)}, headers=tom.headers
    )
    assert enrolled.status_code == 200 and enrolled.json()["role"] == "learner"
    members = api.client.get(f"{url}/members", headers=admin.headers).json()
    assert [(m["display_name"], m["role"]) for m in members] == [
        ("tess", "tutor"),
        ("tom", "tutor"),
        ("lea", "learner"),
    ]

    not_tutor = api.client.post(
        f"{url}/tutors", json={"user_id": str(learner.id)}, headers=tess.headers
    )
    assert not_tutor.status_code == 422 and not_tutor.json()["error"]["code"] == "not_a_tutor"
    not_learner = api.client.post(
        f"{url}/learners", json={"user_id": str(outsider.id)}, headers=tess.headers
    )
    assert not_learner.status_code == 422
    unknown = api.client.post(f"{url}/tutors", json={"user_id": MISSING}, headers=tess.headers)
    assert unknown.status_code == 404
    bad_id = api.client.post(f"{url}/learners", json={"user_id": "x"}, headers=tess.headers)
    assert bad_id.status_code == 422

    body = {"user_id": str(outsider.id)}
    assert api.client.post(f"{url}/tutors", json=body, headers=outsider.headers).status_code == 403
    assert api.client.post(f"{url}/tutors", json=body, headers=learner.headers).status_code == 403
    assert api.client.get(f"{url}/members", headers=outsider.headers).status_code == 403
    assert api.client.get(f"{url}/members", headers=learner.headers).status_code == 403

    # A learner put in a draft course by its tutor can see it; an archived one takes nobody.
    draft = new_course(api, tess)
    draft_url = f"/v1/courses/{draft['id']}"
    other = api.account(Role.LEARNER)
    body = {"user_id": str(other.id)}
    assert api.client.post(f"{draft_url}/learners", json=body, headers=tess.headers).is_success
    assert api.client.get(draft_url, headers=other.headers).json()["my_role"] == "learner"
    api.client.post(f"{draft_url}/archive", headers=tess.headers)
    late = {"user_id": str(learner.id)}
    closed = api.client.post(f"{draft_url}/learners", json=late, headers=tess.headers)
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "course_archived"


@pytest.mark.parametrize("tutors_see_emails", [True, False])
def test_the_school_decides_whether_tutors_read_members_emails(
    db_url: str, tmp_path: Path, tutors_see_emails: bool
) -> None:
    upgrade(db_url)
    settings = make_settings(db_url, tmp_path, tutors_see_emails=tutors_see_emails)
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        api = Api(client)
        admin, tutor = api.account(Role.ADMIN), api.account(Role.TUTOR)
        stranger = api.account(Role.LEARNER)
        url = f"/v1/courses/{new_course(api, tutor)['id']}"
        # A tutor can enrol an account by its id; what that reveals is the school's call.
        added = client.post(
            f"{url}/learners", json={"user_id": str(stranger.id)}, headers=tutor.headers
        )
        assert added.status_code == 200
        expected = stranger.email if tutors_see_emails else None
        assert added.json()["email"] == expected
        listed = client.get(f"{url}/members?role=learner", headers=tutor.headers).json()
        assert [m["email"] for m in listed] == [expected]
        as_admin = client.get(f"{url}/members?role=learner", headers=admin.headers).json()
        assert [m["email"] for m in as_admin] == [stranger.email]
