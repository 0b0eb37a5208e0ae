"""The account's word over the token's: disabled, demoted, deleted and signed-out accounts lose
their access at once on this node (within `auth.account_check_s` elsewhere), and a refresh
token works once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from rest.auth.accounts import Accounts
from storage.models import Role, User
from tests.rest.conftest import Account, Api


def sign_in(api: Api, account: Account) -> dict[str, Any]:
    response = api.client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refresh(api: Api, token: str) -> Any:
    return api.client.post("/v1/auth/refresh", json={"refresh_token": token})


def test_a_disabled_account_loses_access_and_its_refresh_tokens(api: Api) -> None:
    admin, learner = api.account(Role.ADMIN), api.account()
    tokens = sign_in(api, learner)
    assert api.client.get("/v1/users/me", headers=learner.headers).status_code == 200

    off = api.client.patch(f"/v1/users/{learner.id}", json={"active": False}, headers=admin.headers)
    assert off.status_code == 200

    me = api.client.get("/v1/users/me", headers=learner.headers)
    assert me.status_code == 401 and me.json()["error"]["code"] == "account_disabled"
    assert refresh(api, tokens["refresh_token"]).status_code == 401
    # Enabled again, the tokens from before stay revoked: the learner signs in anew.
    on = api.client.patch(f"/v1/users/{learner.id}", json={"active": True}, headers=admin.headers)
    assert on.status_code == 200
    stale = api.client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert stale.status_code == 401 and stale.json()["error"]["code"] == "token_revoked"
    renewed = bearer(sign_in(api, learner)["access_token"])
    assert api.client.get("/v1/users/me", headers=renewed).status_code == 200


def test_a_demoted_tutor_s_old_token_has_the_new_role(api: Api) -> None:
    admin, tutor = api.account(Role.ADMIN), api.account(Role.TUTOR)
    course = {"title": "Vowels", "description": "", "language": "en"}
    assert api.client.post("/v1/courses", json=course, headers=tutor.headers).status_code == 201
    demoted = api.client.patch(
        f"/v1/users/{tutor.id}", json={"role": "learner"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    again = api.client.post("/v1/courses", json=course, headers=tutor.headers)
    assert again.status_code == 403


def test_a_signed_token_of_a_deleted_account_is_refused(api: Api) -> None:
    ghost = api.state.tokens.issue(uuid.uuid4(), Role.ADMIN, "access")
    response = api.client.get("/v1/users", headers=bearer(ghost))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "account_not_found"
    ghost_refresh = api.state.tokens.issue(uuid.uuid4(), Role.ADMIN, "refresh", family="f")
    assert refresh(api, ghost_refresh).status_code == 401


def test_a_refresh_token_works_once_and_its_reuse_revokes_the_family(api: Api) -> None:
    learner = api.account()
    first = sign_in(api, learner)
    second = refresh(api, first["refresh_token"])
    assert second.status_code == 200
    reused = refresh(api, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_reused"
    # The thief's (or the owner's) newer token of the same sign-in is revoked with it...
    assert refresh(api, second.json()["refresh_token"]).status_code == 401
    # ...and another sign-in of the same account is not.
    other = sign_in(api, learner)
    assert refresh(api, other["refresh_token"]).status_code == 200


def test_logout_revokes_the_sign_in_and_everywhere_revokes_every_token(api: Api) -> None:
    learner = api.account()
    phone, laptop = sign_in(api, learner), sign_in(api, learner)
    out = api.client.post("/v1/auth/logout", json={"refresh_token": phone["refresh_token"]})
    assert out.status_code == 204
    assert refresh(api, phone["refresh_token"]).status_code == 401
    assert api.client.get("/v1/users/me", headers=bearer(laptop["access_token"])).status_code == 200

    everywhere = {"refresh_token": laptop["refresh_token"], "everywhere": True}
    assert api.client.post("/v1/auth/logout", json=everywhere).status_code == 204
    assert api.client.get("/v1/users/me", headers=bearer(laptop["access_token"])).status_code == 401
    assert refresh(api, laptop["refresh_token"]).status_code == 401


def test_a_password_change_revokes_earlier_tokens(api: Api) -> None:
    learner = api.account()
    old = sign_in(api, learner)
    change = {"current_password": learner.password, "new_password": "a brand new passphrase"}
    wrong = api.client.post(
        "/v1/users/me/password",
        json={**change, "current_password": "not it at all"},
        headers=learner.headers,
    )
    assert wrong.status_code == 401
    changed = api.client.post("/v1/users/me/password", json=change, headers=learner.headers)
    assert changed.status_code == 200
    assert api.client.get("/v1/users/me", headers=bearer(old["access_token"])).status_code == 401
    assert refresh(api, old["refresh_token"]).status_code == 401
    fresh = bearer(changed.json()["access_token"])
    assert api.client.get("/v1/users/me", headers=fresh).status_code == 200
    login = {"email": learner.email, "password": "a brand new passphrase"}
    assert api.client.post("/v1/auth/login", json=login).status_code == 200


def test_another_node_s_change_shows_once_the_cached_account_ages(api: Api) -> None:
    now = [0.0]
    accounts = Accounts(api.state.sessions, ttl_s=5.0, clock=lambda: now[0])
    learner = api.account()
    claims = api.state.tokens.claims(learner.token)
    assert api.run(accounts.principal, claims).role is Role.LEARNER

    async def promote() -> None:  # as another node would: straight in the database
        async with api.state.sessions.begin() as db:
            await db.execute(update(User).where(User.id == learner.id).values(role="tutor"))

    api.run(promote)
    now[0] = 4.9
    assert api.run(accounts.principal, claims).role is Role.LEARNER
    now[0] = 5.1
    assert api.run(accounts.principal, claims).role is Role.TUTOR
