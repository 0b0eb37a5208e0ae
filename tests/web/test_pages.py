"""The web app is served by Parley itself: the page at `/`, its modules with a JavaScript type
(browsers refuse modules served otherwise), nothing fetched from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

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


CALL = re.compile(r'(?:api|send)\(\s*"(GET|POST|PATCH|PUT|DELETE)",\s*[`"](/v1[^`"?]*)')
FETCH = re.compile(r'(?:fetch|blobUrl)\(\s*[`"](/v1[^`"?]*)')
SOCKET = re.compile(r"new WebSocket\([^;]*?(/v1/ws/[a-z]+)")
QUERY = re.compile(r"[?&]([a-z_]+)=")
ANY_PATH = re.compile(r"/v1/[a-z]")


def code_of(module: Path) -> str:
    """The module without its comments (they name paths the code does not call)."""
    lines = module.read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("//", "/*", "*")))


def template(path: str) -> str:
    return re.sub(r"\$\{[^}]+\}", "{}", path)


def test_every_api_call_of_the_app_is_in_the_openapi_document(api: Api) -> None:
    """The app speaks the public API only. Each `api(METHOD, path)` and `send(...)` call in
    its modules names an operation the document describes, each `fetch` or `blobUrl` a GET, each
    socket a websocket route of the app; every query parameter written in a module is one
    of the operations it calls; and no path is called any other way (the patterns would
    miss it)."""
    document = api.client.get("/openapi.json").json()
    operations = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)): {
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        }
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    app = api.client.app
    assert isinstance(app, Starlette)
    sockets = {r.path for r in app.routes if isinstance(r, WebSocketRoute)}
    calls: set[tuple[str, str]] = set()
    for module in sorted(STATIC.glob("*.js")):
        code = code_of(module)
        mine = {(m, template(p)) for m, p in CALL.findall(code)}
        mine |= {("GET", template(p)) for p in FETCH.findall(code)}
        opened = set(SOCKET.findall(code))
        assert mine - operations.keys() == set(), module.name
        assert opened <= sockets, module.name
        found = len(CALL.findall(code)) + len(FETCH.findall(code)) + len(opened)
        assert len(ANY_PATH.findall(code)) == found, f"{module.name}: a path called otherwise"
        known = set().union(*(operations[c] for c in mine)) if mine else set()
        assert set(QUERY.findall(code)) <= known, module.name
        calls |= mine
    assert len(calls) >= 30  # the patterns still find the calls
