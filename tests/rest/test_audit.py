"""The audit trail: each administrative action leaves one event, with the actor and the
request id, readable by admins only and filterable."""

from __future__ import annotations

from typing import Any

from storage.models import Role
from tests.rest.conftest import Api


def events(api: Api, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    answer = api.client.get(f"/v1/audit{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


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

    trail = events(api, admin.headers)
    assert [(e["action"], e["target_id"]) for e in trail] == [
        ("course.archived", course["id"]),
        ("user.deactivated", user_id),
        ("user.role_changed", user_id),
        ("user.created", user_id),
    ]
    by_action = {e["action"]: e for e in trail}
    assert by_action["user.role_changed"]["details"] == {"old": "learner", "new": "tutor"}
    assert by_action["user.created"]["request_id"] == "req-create-1"
    assert by_action["user.created"]["actor_id"] == str(admin.id)
    assert by_action["course.archived"]["actor_role"] == "tutor"

    assert [e["action"] for e in events(api, admin.headers, "?action=user.created")] == [
        "user.created"
    ]
    assert len(events(api, admin.headers, f"?target_id={user_id}")) == 3
    assert len(events(api, admin.headers, f"?actor_id={tutor.id}")) == 1
    assert events(api, admin.headers, "?until=2000-01-01T00:00:00Z") == []
    assert len(events(api, admin.headers, "?since=2000-01-01T00:00:00Z&limit=2")) == 2
    assert api.client.get("/v1/audit?since=0", headers=admin.headers).status_code == 422
    for other in (tutor, api.account(Role.LEARNER)):
        refused = api.client.get("/v1/audit", headers=other.headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
