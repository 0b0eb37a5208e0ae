"""User administration is for admins only."""

from __future__ import annotations

from storage.models import Role
from tests.rest.conftest import Api


def test_admin_creates_and_lists_users(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    created = api.client.post(
        "/v1/users",
        json={
            "email": "tutor@example.org",
            "password": "long enough pw",
            "display_name": "Tess",
            "role": "tutor",
        },
        headers=admin.headers,
    )
    assert created.status_code == 201 and created.json()["role"] == "tutor"
    tutors = api.client.get("/v1/users?role=tutor", headers=admin.headers).json()
    assert [u["email"] for u in tutors] == ["tutor@example.org"]

    promoted = api.client.patch(
        f"/v1/users/{created.json()['id']}", json={"role": "admin"}, headers=admin.headers
    )
    assert promoted.json()["role"] == "admin"


def test_non_admins_are_refused(api: Api) -> None:
    for role in (Role.LEARNER, Role.TUTOR):
        account = api.account(role)
        listed = api.client.get("/v1/users", headers=account.headers)
        assert listed.status_code == 403
        assert listed.json()["error"]["code"] == "forbidden"
        patched = api.client.patch(
            f"/v1/users/{account.id}", json={"role": "admin"}, headers=account.headers
        )
        assert patched.status_code == 403


def test_bad_admin_input(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    assert api.client.get("/v1/users?limit=0", headers=admin.headers).status_code == 422
    assert api.client.get("/v1/users?role=king", headers=admin.headers).status_code == 422
    missing = api.client.patch(
        "/v1/users/00000000-0000-0000-0000-000000000000",
        json={"active": False},
        headers=admin.headers,
    )
    assert missing.status_code == 404
    assert (
        api.client.patch("/v1/users/not-a-uuid", json={}, headers=admin.headers).status_code == 404
    )
    unknown_field = api.client.patch(
        f"/v1/users/{admin.id}", json={"password_hash": "x"}, headers=admin.headers
    )
    assert unknown_field.status_code == 422
