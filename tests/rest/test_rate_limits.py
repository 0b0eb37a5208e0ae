"""Rate limits on sign-in, registration and refresh: 429 with Retry-After and the JSON error,
counted per account and per client address; with Redis the count is shared by every node.
(Trusted proxies: tests/cli/test_serve_proxies.py, over a real server.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from realtime.limit_settings import LimitSettings
from realtime.throttle import Throttle, parse_limit
from rest.app import create_app
from storage.migrate import upgrade
from storage.models import Role
from tests.rest.conftest import Api, cheap_passwords, make_settings
from tests.services import REDIS_URL, require


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[Api]:
    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, tmp_path)
    settings.limits = LimitSettings(
        login_per_account="3/minute", login_per_address="6/minute", register_per_address="2/hour"
    )
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        yield Api(client)


def login(api: Api, email: str, headers: dict[str, str] | None = None) -> Any:
    body = {"email": email, "password": "wrong password"}
    return api.client.post("/v1/auth/login", json=body, headers=headers)


def test_password_guessing_on_one_account_is_throttled(api: Api) -> None:
    victim = api.account()
    assert [login(api, victim.email).status_code for _ in range(3)] == [401] * 3
    refused = login(api, victim.email)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["retry_after_s"] == int(refused.headers["retry-after"])
    # The right password does not get through either while the account is throttled.
    right = api.client.post(
        "/v1/auth/login", json={"email": victim.email, "password": victim.password}
    )
    assert right.status_code == 429
    # Another account from the same address still signs in.
    other = api.account()
    ok = api.client.post("/v1/auth/login", json={"email": other.email, "password": other.password})
    assert ok.status_code == 200


def test_one_address_spraying_many_accounts_is_throttled(api: Api) -> None:
    codes = [login(api, f"user{i}@example.org").status_code for i in range(7)]
    assert codes == [401] * 6 + [429]


def test_registrations_from_one_address_are_throttled(api: Api) -> None:
    def register() -> int:
        body = {
            "email": f"{uuid.uuid4().hex[:8]}@example.org",
            "password": "long enough pw",
            "display_name": "New",
        }
        return api.client.post("/v1/auth/register", json=body).status_code

    assert [register() for _ in range(3)] == [201, 201, 429]


def test_a_limit_setting_is_checked_at_start() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        LimitSettings(login_per_account="ten a minute")


@pytest.mark.redis
async def test_nodes_share_one_count_through_redis() -> None:
    require("Redis", REDIS_URL)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    node_a = Throttle.create(REDIS_URL, prefix=prefix, enabled=True)
    node_b = Throttle.create(REDIS_URL, prefix=prefix, enabled=True)
    limit = parse_limit("2/minute")
    assert await node_a.hit("login", limit, "ada") is None
    assert await node_b.hit("login", limit, "ada") is None
    refused = await node_a.hit("login", limit, "ada")
    assert refused is not None and refused.rule == "login"
    await node_a.aclose()
    await node_b.aclose()


async def test_an_unreachable_redis_lets_requests_through() -> None:
    throttle = Throttle.create("redis://127.0.0.1:9/0", prefix="x", enabled=True)
    limit = parse_limit("1/minute")
    assert [await throttle.hit("login", limit, "ada") for _ in range(3)] == [None] * 3
    await throttle.aclose()


def test_rescoring_jobs_are_throttled_per_user(api: Api) -> None:
    api.state.settings.limits.rescore_jobs_per_user = "2/hour"
    tutor, admin = api.account(Role.TUTOR), api.account(Role.ADMIN)
    body = {"scope": {"session_ids": [str(uuid.uuid4())]}}

    def start(who: Any) -> Any:
        return api.client.post("/v1/rescore-jobs", json=body, headers=who.headers)

    first = [start(tutor).status_code for _ in range(2)]
    refused = start(tutor)
    assert refused.status_code == 429 and first[0] != 429 and first[1] != 429
    assert refused.json()["error"]["code"] == "rate_limited" and refused.headers["retry-after"]
    assert start(admin).status_code != 429  # a count per user
