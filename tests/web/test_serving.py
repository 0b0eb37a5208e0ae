"""How Parley serves the web app and the API console: the page at the app's own paths (and
only there), files with the types browsers insist on, the security headers, and `/docs` as
Swagger UI from Parley itself."""

from __future__ import annotations

import re

import pytest

from rest.security_headers import APP_POLICY
from tests.rest.conftest import Api


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: sources for name, *sources in parts}


@pytest.mark.parametrize("path", ["/", "/login", "/history", "/tutor", "/exercises/1f0e-2b"])
def test_the_page_is_served_at_the_app_s_paths(api: Api, path: str) -> None:
    page = api.client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<main id="view"' in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert api.client.head(path).status_code == 200


@pytest.mark.parametrize(
    "path", ["/v1", "/v1/nothing", "/v1/users/nothing/here", "/static/nothing.js", "/robots.txt"]
)
def test_the_api_s_paths_and_missing_files_are_not_the_page(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 404
    assert "<main" not in response.text


def test_the_fallback_leaves_the_api_s_answers_alone(api: Api) -> None:
    assert api.client.get("/v1/nothing").json()["error"]["code"] == "not_found"
    assert api.client.get("/v1/auth/login").status_code == 405  # a POST route
    assert api.client.post("/history").status_code in (404, 405)
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/openapi.json").json()["openapi"].startswith("3.")


def test_modules_styles_and_the_worklet_have_their_types(api: Api) -> None:
    for path in ("/static/app.js", "/static/api.js", "/static/capture-worklet.js"):
        script = api.client.get(path)
        assert script.status_code == 200, path
        # Browsers refuse a module or a worklet served with any other type (nosniff).
        assert script.headers["content-type"].startswith("text/javascript"), path
        assert script.headers["cache-control"] == "no-cache"
    css = api.client.get("/static/app.css")
    assert css.headers["content-type"].startswith("text/css")
    assert api.client.get("/static/favicon.svg").headers["content-type"] == "image/svg+xml"


@pytest.mark.parametrize("path", ["/", "/history", "/static/app.js", "/v1/courses", "/healthz"])
def test_security_headers_on_pages_files_and_the_api(api: Api, path: str) -> None:
    headers = api.client.get(path).headers
    policy = directives(headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no CDN
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "microphone=(self)" in headers["permissions-policy"]


def test_the_page_has_no_inline_script_or_style(api: Api) -> None:
    page = api.client.get("/").text
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all(" src=" in tag for tag in scripts)
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", page)  # no code between the tags
    assert not re.search(r"\s(style|on[a-z]+)=", page)
    assert "<style" not in page


def test_docs_is_swagger_ui_served_by_parley(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//[a-z]", page.text.replace("<!doctype", ""))
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/docs/assets/swagger-ui-bundle.js" in urls and "/static/api-console.js" in urls
    for url in urls:
        asset = api.client.get(url)
        assert asset.status_code == 200, url
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        if url.endswith((".css", ".js")):
            assert asset.headers["content-type"].startswith(kind), url
    # The app's own policy: Swagger UI needs no inline script or style.
    assert page.headers["content-security-policy"] == APP_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    # Swagger UI would otherwise send the API description to a public validator.
    console = api.client.get("/static/api-console.js").text
    assert "validatorUrl: null" in console and "https://" not in console
