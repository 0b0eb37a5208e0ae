"""CORS: off unless origins are configured, then for those origins only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rest.app import create_app
from storage.migrate import upgrade
from tests.rest.conftest import Api, cheap_passwords, make_settings

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type",
}


@pytest.fixture
def open_to_app(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, tmp_path)
    settings.server.cors_origins = ["https://app.school.org"]
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        yield client


def test_no_cors_headers_by_default(api: Api) -> None:
    headers = {"Origin": "https://elsewhere.example", **PREFLIGHT}
    answer = api.client.options("/v1/auth/login", headers=headers)
    assert "access-control-allow-origin" not in answer.headers
    plain = api.client.get("/healthz", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_a_configured_origin_may_call_and_another_may_not(open_to_app: TestClient) -> None:
    ok = open_to_app.options(
        "/v1/auth/login", headers={"Origin": "https://app.school.org", **PREFLIGHT}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.school.org"
    refused = open_to_app.options(
        "/v1/auth/login", headers={"Origin": "https://elsewhere.example", **PREFLIGHT}
    )
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
