"""The web app's routes: the page at `/`, its modules and styles under `/static/`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web import STATIC


async def _page(_request: Request) -> Response:
    # Revalidated on every load, so a deployment's new modules are picked up at once.
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def routes() -> list[BaseRoute]:
    return [
        Route("/", _page, methods=["GET", "HEAD"], include_in_schema=False),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
