"""The audit trail: each administrative action leaves one event, with the actor and the
request id, readable by admins only, filterable and paged."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from storage.models import Role
from tests.rest.conftest import Account, Api


def page(api: Api, who: Account, query: str = "") -> dict[str, Any]:
    answer = api.client.get(f"/v1/audit{query}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def trail(api: Api, who: Account, query: str = "") -> list[tuple[str, str]]:
    return [(e["action"], e["target_id"]) for e in page(api, who, query)["items"]]


def test_admin_actions_leave_a_trail_only_admins_read(api: Api) -> None:
    admin, tutor = api.account(Role.ADMIN), api.account(Role.TUTOR)
    body = {
        "email": "new.tutor@example.org",
        "password": "a long enough password",
        "display_name": "New",
        "role": "learner",
    }
    created = api.client.post(
        "/v1/users", json=body, headers={**admin.headers, "X-Request-ID": "req-create-1"}
    )
    assert created.status_code == 201
    user_id = created.json()["id"]
    url = f"/v1/users/{user_id}"
    assert api.client.patch(url, json={"role": "tutor"}, headers=admin.headers).status_code == 200
    assert api.client.patch(url, json={"active": False}, headers=admin.headers).status_code == 200
    renamed = api.client.patch(url, json={"display_name": "Renamed"}, headers=admin.headers)
    assert renamed.status_code == 200  # not an audited change
    course = api.client.post("/v1/courses", json={"title": "Old"}, headers=tutor.headers).json()
    archived = api.client.post(f"/v1/courses/{course['id']}/archive", headers=tutor.headers)
    assert archived.status_code == 200

    found = page(api, admin)
    assert found["next_cursor"] is None
    assert [(e["action"], e["target_id"]) for e in found["items"]] == [
        ("course.archived", course["id"]),
        ("user.deactivated", user_id),
        ("user.role_changed", user_id),
        ("user.created", user_id),
    ]
    by_action = {e["action"]: e for e in found["items"]}
    assert by_action["user.role_changed"]["details"] == {"old": "learner", "new": "tutor"}
    assert by_action["user.created"]["request_id"] == "req-create-1"
    assert by_action["user.created"]["actor_id"] == str(admin.id)
    assert by_action["user.created"]["target_type"] == "user"
    assert by_action["course.archived"]["actor_role"] == "tutor"
    assert datetime.fromisoformat(by_action["course.archived"]["at"]).utcoffset() == timedelta(0)

    assert trail(api, admin, "?action=user.created") == [("user.created", user_id)]
    assert len(trail(api, admin, f"?target_id={user_id}")) == 3
    assert trail(api, admin, "?target_type=course") == [("course.archived", course["id"])]
    assert trail(api, admin, f"?actor_id={tutor.id}") == [("course.archived", course["id"])]
    assert trail(api, admin, "?until=2000-01-01T00:00:00Z") == []
    assert len(trail(api, admin, "?since=2000-01-01T00:00:00%2B02:00")) == 4
    for other in (tutor, api.account(Role.LEARNER)):
        refused = api.client.get("/v1/audit", headers=other.headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
    assert api.client.get("/v1/audit").status_code == 401


def test_archiving_by_either_route_is_recorded_once(api: Api) -> None:
    admin, tutor = api.account(Role.ADMIN), api.account(Role.TUTOR)
    course = api.client.post("/v1/courses", json={"title": "C"}, headers=tutor.headers).json()
    exercise = api.client.post(
        f"/v1/courses/{course['id']}/exercises",
        json={"kind": "read_aloud", "title": "E", "reference_text": "Good morning."},
        headers=tutor.headers,
    ).json()
    ex_url, course_url = f"/v1/exercises/{exercise['id']}", f"/v1/courses/{course['id']}"

    for _ in range(2):  # archiving what is archived already is no new event
        assert api.client.post(f"{ex_url}/archive", headers=tutor.headers).status_code == 200
    assert api.client.patch(ex_url, json={"archived": False}, headers=tutor.headers).is_success
    assert api.client.patch(ex_url, json={"archived": True}, headers=tutor.headers).is_success
    assert api.client.patch(ex_url, json={"title": "Renamed"}, headers=tutor.headers).is_success
    archive = {"status": "archived"}
    assert api.client.patch(course_url, json=archive, headers=admin.headers).is_success
    assert api.client.post(f"{course_url}/archive", headers=admin.headers).is_success
    unarchive = {"status": "published"}
    assert api.client.patch(course_url, json=unarchive, headers=admin.headers).is_success

    assert trail(api, admin) == [
        ("course.unarchived", course["id"]),
        ("course.archived", course["id"]),
        ("exercise.archived", exercise["id"]),
        ("exercise.unarchived", exercise["id"]),
        ("exercise.archived", exercise["id"]),
    ]
    assert trail(api, admin, f"?target_type=exercise&actor_id={admin.id}") == []


def test_pages_follow_the_cursor_and_do_not_shift_as_the_trail_grows(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    learners = [api.account(Role.LEARNER) for _ in range(5)]

    def deactivate(who: Account) -> None:
        answer = api.client.patch(
            f"/v1/users/{who.id}", json={"active": False}, headers=admin.headers
        )
        assert answer.status_code == 200

    for learner in learners[:3]:
        deactivate(learner)
    first = page(api, admin, "?limit=2")
    assert [e["target_id"] for e in first["items"]] == [str(u.id) for u in learners[2:0:-1]]
    assert first["next_cursor"]
    for learner in learners[3:]:
        deactivate(learner)  # newer events: they belong before the first page, not in the next
    rest = page(api, admin, f"?limit=2&cursor={first['next_cursor']}")
    assert [e["target_id"] for e in rest["items"]] == [str(learners[0].id)]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "?action=user.exploded",  # not an action the trail holds
        "?target_type=planet",
        "?since=0",  # a number, which pydantic alone would read as Unix time
        "?since=2026-01-01T00:00:00",  # no zone
        "?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
        "?actor_id=me",
        "?limit=0",
        "?limit=101",
        "?cursor=not-a-cursor",
        "?offset=10",  # paged by cursor: an unknown parameter is refused, not ignored
    ],
)
def test_a_bad_filter_is_a_clear_422(api: Api, query: str) -> None:
    admin = api.account(Role.ADMIN)
    answer = api.client.get(f"/v1/audit{query}", headers=admin.headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_input"


def test_the_trail_is_in_the_api_document(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/audit"]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert params == {"actor_id", "action", "target_type", "target_id", "since", "until"} | {
        "limit",
        "cursor",
    }
    assert {"401", "403", "422"} <= operation["responses"].keys()
    page_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"items", "next_cursor"} <= page_schema["properties"].keys()
    (action,) = [p for p in operation["parameters"] if p["name"] == "action"]
    assert "exercise.archived" in action["schema"]["anyOf"][0]["enum"]
