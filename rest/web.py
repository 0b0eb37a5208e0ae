"""The web app's routes: the page at `/` and at the app's own paths, its files under `/static/`.

The app routes in the browser (history API), so a reload or a shared link of `/history` or
`/exercises/<id>` must get the page too: any GET of a path that is not the API's, has no
file extension and matches no other route is answered with the page (the "SPA fallback").
The fallback does not even match the API's paths, so their 404s and 405s stay as they were
(a route that matched them would turn an earlier route's 405 into its own answer), and a
missing file (`/robots.txt`) keeps its 404.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from web import STATIC

# Not the app's: a typo under these is the API's 404, not the page.
RESERVED = ("/v1/", "/docs", "/openapi.json", "/healthz", "/readyz", "/metrics", "/static/")

# Revalidated on every load (a cheap 304 while unchanged), so a deployment's new modules
# are picked up at once and never mixed with a cached older module they import.
_REVALIDATE = {"Cache-Control": "no-cache"}


class _Files(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(_REVALIDATE)
        return response


def is_app_path(path: str) -> bool:
    if path == "/v1" or path.startswith(RESERVED):
        return False
    # Trailing slash stripped: the router retries a missing `/robots.txt` as `/robots.txt/`.
    return "." not in path.rstrip("/").rsplit("/", 1)[-1]


class _AppPages(Route):
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        match, child = super().matches(scope)
        if match is Match.FULL and is_app_path("/" + child["path_params"]["path"]):
            return match, child
        return Match.NONE, {}


async def _page(_request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers=_REVALIDATE)


def routes() -> list[BaseRoute]:
    """Last in the app's routes: the fallback answers only what no other route matched."""
    return [
        Mount("/static", app=_Files(directory=STATIC), name="static"),
        _AppPages("/{path:path}", _page, methods=["GET"], include_in_schema=False),
    ]
