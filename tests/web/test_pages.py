"""The web app is served by Parley itself: the page at `/`, its modules with a JavaScript type
(browsers refuse modules served otherwise), nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from tests.rest.conftest import Api

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def test_the_page_and_its_modules_are_served(api: Api) -> None:
    page = api.client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    modules = re.findall(r'src="(/static/[^"]+\.js)"', page.text)
    assert modules == ["/static/app.js"]
    for path in ("/static/app.js", "/static/practice.js", "/static/capture-worklet.js"):
        script = api.client.get(path)
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
    assert api.client.get("/static/app.css").headers["content-type"].startswith("text/css")
    assert api.client.get("/static/nothing.js").status_code == 404


def test_the_app_loads_nothing_from_another_origin(api: Api) -> None:
    for path in ("/", "/static/app.js", "/static/api.js", "/static/practice.js"):
        assert not re.search(r"https?://", api.client.get(path).text), path


def test_every_api_call_of_the_app_is_in_the_openapi_document(api: Api) -> None:
    """The app speaks the public API only: each `api(METHOD, path)` and `send(...)` call in
    its modules names an operation the document describes (ids and queries aside)."""
    document = api.client.get("/openapi.json").json()
    operations = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in document["paths"].items()
        for method in item
    }
    calls = set()
    for module in sorted(STATIC.glob("*.js")):
        for method, path in re.findall(
            r'(?:api|send)\("(GET|POST|PATCH|PUT|DELETE)", [`"](/v1[^`"?]*)', module.read_text()
        ):
            calls.add((method, re.sub(r"\$\{[^}]+\}", "{}", path)))
    assert len(calls) >= 20  # the pattern still finds the calls
    assert calls - operations == set()
