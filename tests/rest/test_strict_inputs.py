"""No silent coercion: a string where a number or flag belongs, or a number where a timestamp
belongs, is a 422 naming the field, never a guess."""

from __future__ import annotations

from typing import Any

from storage.models import Role
from tests.rest.conftest import Api


def fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [".".join(map(str, e["loc"])) for e in response.json()["error"]["details"]["errors"]]


def test_body_values_keep_their_json_types(api: Api) -> None:
    admin, learner = api.account(Role.ADMIN), api.account()
    flag = api.client.patch(
        f"/v1/users/{learner.id}", json={"active": "false"}, headers=admin.headers
    )
    assert fields(flag) == ["active"]
    # The account is untouched by the refused request.
    me = api.client.get("/v1/users/me", headers=learner.headers)
    assert me.json()["active"] is True

    course = api.client.post("/v1/courses", json={"title": "C"}, headers=admin.headers).json()
    exercise = {"kind": "read_aloud", "title": "E", "reference_text": "Hello", "position": "1"}
    made = api.client.post(
        f"/v1/courses/{course['id']}/exercises", json=exercise, headers=admin.headers
    )
    assert fields(made) == ["position"]


def test_a_number_is_not_a_timestamp(api: Api) -> None:
    learner = api.account()
    for value in ("0.5", "0", "1e9", "-3"):
        listing = api.client.get(f"/v1/sessions?until={value}", headers=learner.headers)
        assert fields(listing) == ["until"], value
    iso = api.client.get("/v1/sessions?until=2026-01-31T09:00:00Z", headers=learner.headers)
    assert iso.status_code == 200


def test_a_rescoring_scope_refuses_unix_time(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    body = {"scope": {"until": 0}}
    response = api.client.post("/v1/rescore-jobs", json=body, headers=admin.headers)
    assert fields(response) == ["scope.until"]
