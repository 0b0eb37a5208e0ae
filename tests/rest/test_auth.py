"""Registration, login, refresh and token checks, through the real app."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from starlette.testclient import TestClient

from rest.app import create_app
from storage.models import Role
from tests.rest.conftest import SECRET, Api, cheap_passwords, make_settings


def register(api: Api, email: str = "ada@example.org", **extra: Any) -> Any:
    body = {"email": email, "password": "long enough pw", "display_name": "Ada", **extra}
    return api.client.post("/v1/auth/register", json=body)


def forged(claims: dict[str, Any], secret: str = SECRET, alg: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {
        "iss": "parley",
        "aud": "parley-api",
        "sub": str(uuid.uuid4()),
        "role": "admin",
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return jwt.encode({**base, **claims}, secret, algorithm=alg)


def test_register_login_refresh_me(api: Api) -> None:
    created = register(api, email="  Ada@Example.org ")
    assert created.status_code == 201
    user = created.json()["user"]
    assert user["email"] == "ada@example.org"
    assert user["role"] == "learner"

    login = api.client.post(
        "/v1/auth/login", json={"email": "ADA@example.org", "password": "long enough pw"}
    )
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900

    me = api.client.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["id"] == user["id"]

    refreshed = api.client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    again = refreshed.json()["access_token"]
    assert (
        api.client.get("/v1/users/me", headers={"Authorization": f"Bearer {again}"}).status_code
        == 200
    )


def test_register_refuses_duplicates_and_bad_input(api: Api) -> None:
    assert register(api).status_code == 201
    duplicate = register(api, email="ADA@example.org")
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "email_taken"

    short = register(api, email="bob@example.org", password="short")
    assert short.status_code == 422
    assert short.json()["error"]["details"]["errors"][0]["loc"] == ["password"]

    assert register(api, email="not-an-email").status_code == 422
    # A learner cannot choose a role at registration.
    assert register(api, email="eve@example.org", role="admin").status_code == 422

    malformed = api.client.post(
        "/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "bad_request"


def test_login_refusals_look_alike(api: Api) -> None:
    register(api)
    wrong = api.client.post(
        "/v1/auth/login", json={"email": "ada@example.org", "password": "wrong password"}
    )
    unknown = api.client.post(
        "/v1/auth/login", json={"email": "nobody@example.org", "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_tokens_are_checked(api: Api) -> None:
    me = "/v1/users/me"
    assert api.client.get(me).json()["error"]["code"] == "missing_token"
    account = api.account(Role.LEARNER)

    def status(token: str) -> tuple[int, str]:
        response = api.client.get(me, headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.json()["error"]["code"]

    past = datetime.now(UTC) - timedelta(hours=1)
    sub = {"sub": str(account.id), "role": "learner"}
    assert status(forged({**sub, "exp": past, "iat": past})) == (401, "token_expired")
    assert status(forged({**sub, "aud": "someone-else"})) == (401, "invalid_token")
    assert status(forged({**sub, "iss": "evil"})) == (401, "invalid_token")
    assert status(forged(sub, secret="a different secret " + "y" * 60)) == (
        401,
        "invalid_token",
    )
    assert status(forged(sub, alg="HS512")) == (401, "invalid_token")
    unsigned = jwt.encode({"sub": str(account.id)}, None, algorithm="none")  # type: ignore[arg-type]
    assert status(unsigned) == (401, "invalid_token")
    # A refresh token is not an access token, and vice versa.
    assert status(forged({**sub, "typ": "refresh"})) == (401, "invalid_token")
    refresh = api.client.post("/v1/auth/refresh", json={"refresh_token": account.token})
    assert refresh.status_code == 401


def test_a_token_accepted_before_is_refused_once_it_expires(api: Api) -> None:
    """Verified tokens are remembered between requests; that memory keeps their expiry."""
    account = api.account(Role.LEARNER)
    now = datetime.now(UTC)
    soon = now + timedelta(seconds=2)
    token = forged({"sub": str(account.id), "role": "learner", "iat": now, "exp": soon})
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/v1/users/me", headers=headers).status_code == 200
    assert api.client.get("/v1/users/me", headers=headers).status_code == 200
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.2)
    late = api.client.get("/v1/users/me", headers=headers)
    assert (late.status_code, late.json()["error"]["code"]) == (401, "token_expired")


def test_disabled_account_cannot_log_in_or_refresh(api: Api) -> None:
    admin = api.account(Role.ADMIN)
    tokens = register(api).json()
    user_id = tokens["user"]["id"]
    off = api.client.patch(f"/v1/users/{user_id}", json={"active": False}, headers=admin.headers)
    assert off.status_code == 200 and off.json()["active"] is False
    login = api.client.post(
        "/v1/auth/login", json={"email": "ada@example.org", "password": "long enough pw"}
    )
    assert login.status_code == 401
    refresh = api.client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["tokens"]["refresh_token"]}
    )
    assert refresh.status_code == 401


def test_registration_can_be_closed(sqlite_url: str, tmp_path: Path) -> None:
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, tmp_path, open_registration=False)
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        response = client.post(
            "/v1/auth/register",
            json={"email": "a@example.org", "password": "long enough pw", "display_name": "A"},
        )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_closed"
