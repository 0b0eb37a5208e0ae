"""The shape-remembering router answers every request as Starlette's own router does."""

from __future__ import annotations

import uuid

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, Router
from starlette.testclient import TestClient

from rest.routing import ShapeRouter


def _endpoint(name: str):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(
            {"route": name, "params": {k: str(v) for k, v in request.path_params.items()}}
        )

    return endpoint


ROUTES = [
    Route("/items/new", _endpoint("new"), methods=["GET"]),
    Route("/items/{item:uuid}", _endpoint("item"), methods=["GET"]),
    Route("/items/{item:uuid}", _endpoint("item-put"), methods=["PUT"]),
    Route("/items/{name}", _endpoint("named"), methods=["GET"]),
    Route("/items/{item:uuid}/notes/{note:uuid}", _endpoint("note"), methods=["GET"]),
]


def _app(router: type[Router]) -> Starlette:
    app = Starlette(routes=ROUTES)
    app.router = router(ROUTES)
    return app


def test_same_answers_as_starlettes_router_repeated_and_with_other_ids() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    requests = [
        ("GET", f"/items/{a}"),
        ("GET", f"/items/{b}"),  # same shape, other id: its own params
        ("GET", f"/items/{str(b).upper()}"),  # not an id to Starlette: the named route
        ("GET", f"/items/{a}"),
        ("PUT", f"/items/{b}"),
        ("DELETE", f"/items/{a}"),  # 405, twice
        ("DELETE", f"/items/{b}"),
        ("GET", "/items/new"),
        ("GET", "/items/bob"),
        ("GET", f"/items/{a}/notes/{b}"),
        ("GET", f"/items/{b}/notes/{a}"),
        ("GET", f"/items/{a}/notes"),  # 404
        ("GET", f"/items/{a}/notes"),
        ("GET", "/items/new/"),  # redirected to the route without the slash
    ]
    with TestClient(_app(Router)) as plain, TestClient(_app(ShapeRouter)) as shaped:
        for _ in range(2):
            for method, path in requests:
                want = plain.request(method, path, follow_redirects=False)
                got = shaped.request(method, path, follow_redirects=False)
                assert (got.status_code, got.text) == (want.status_code, want.text), (method, path)
    assert shaped.request("GET", f"/items/{b}").json() == {
        "route": "item",
        "params": {"item": str(b)},
    }
    assert shaped.request("DELETE", f"/items/{b}").status_code == 405
