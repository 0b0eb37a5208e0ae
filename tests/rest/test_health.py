"""Health, readiness, metrics, the API description and JSON errors for unknown routes."""

from __future__ import annotations

import gc
import uuid
from pathlib import Path

from starlette.testclient import TestClient

from rest.app import create_app
from rest.settings import Settings
from storage.settings import RedisSettings
from tests.rest.conftest import Api, cheap_passwords, make_settings


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "capacity": "ok"}}


def test_a_served_node_freezes_the_heap_it_started_with(sqlite_url: str, tmp_path: Path) -> None:
    """`parley serve` passes freeze_heap: a full collection then walks only what requests
    made, not every module and service (a 100 ms stall every half minute before)."""
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    settings = make_settings(sqlite_url, tmp_path)
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() == 0  # tests build many apps: theirs stay collectable
    try:
        app = create_app(settings, passwords=cheap_passwords(), freeze_heap=True)
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_readiness_reports_an_unreachable_redis(sqlite_url: str, tmp_path: Path) -> None:
    from storage.migrate import upgrade

    upgrade(sqlite_url)
    base = make_settings(sqlite_url, tmp_path)
    # Port 9 (discard) is closed on this machine: Redis is configured but unreachable.
    settings = Settings(
        _env_file=None,
        **{**base.model_dump(), "redis": RedisSettings(url="redis://127.0.0.1:9/0")},
    )
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error")


def test_metrics_count_requests_by_route(api: Api) -> None:
    api.client.get("/healthz")
    api.client.get("/v1/users/me")
    for _ in range(2):  # the second time through the remembered route
        api.client.get(f"/v1/sessions/{uuid.uuid4()}")
        api.client.get("/v1/nothing-here")
    text = api.client.get("/metrics").text
    assert 'parley_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/v1/users/me",status="401"' in text
    sessions = 'method="GET",route="/v1/sessions/{session_id:uuid}",status="401"} 2.0'
    assert sessions in text
    assert 'method="GET",route="unmatched",status="404"} 2.0' in text


def test_unknown_route_and_method_are_json(api: Api) -> None:
    missing = api.client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = api.client.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_openapi_describes_every_route(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    app_routes = {
        (method, route.path.replace(":uuid", ""))
        for route in api.client.app.routes  # type: ignore[attr-defined]
        if getattr(route, "include_in_schema", True) and getattr(route, "methods", None)
        for method in route.methods
        if method != "HEAD"
    }
    assert app_routes <= documented
    assert ("POST", "/v1/auth/login") in documented
    login = spec["paths"]["/v1/auth/login"]["post"]
    schema_ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.rsplit("/", 1)[1] in spec["components"]["schemas"]
    audio = spec["paths"]["/v1/sessions/{session_id}/audio"]["get"]["responses"]["200"]
    assert "audio/wav" in audio["content"]
    feedback = spec["paths"]["/v1/sessions/{session_id}/feedback"]["post"]["responses"]
    assert {"200", "201"} <= set(feedback)
    page = api.client.get("/docs")  # the console (tests/web/test_security.py) reads the spec
    assert page.status_code == 200 and 'data-openapi-url="/openapi.json"' in page.text
