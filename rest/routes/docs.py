"""`/openapi.json` and `/docs`: the API description and the interactive console over it.

The console is Swagger UI, served by Parley itself from the `swagger-ui-bundle-v2` package
(swagger-ui-dist's files, byte for byte, as a Python package with hashes in the lock), never
from a CDN: many school networks and this project's own test machines are offline. Its
start-up script is a file of the web app (`web/static/api-console.js`), because the pages'
Content-Security-Policy (rest/security_headers.py) allows no inline script. Swagger UI works
under that same policy: it sets styles through the DOM, never inline markup, and its icons
are data: images.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from rest.api import Router, openapi

TITLE = "Parley API"
VERSION = "0.1.0"
ASSETS = "/docs/assets"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{TITLE} {VERSION}</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-openapi-url="/openapi.json"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="/static/api-console.js"></script>
</body>
</html>
"""


def swagger_ui_folder() -> Path:
    """swagger-ui-dist's files inside the installed package (`vendor/swagger-ui-<version>`)."""
    vendor = Path(str(importlib.resources.files("swagger_ui_bundle") / "vendor"))
    folders = sorted(vendor.glob("swagger-ui-*"))
    if len(folders) != 1:
        raise RuntimeError(f"expected one Swagger UI in {vendor}, found {len(folders)}")
    return folders[0]


def routes(routers: list[Router]) -> list[BaseRoute]:
    spec = openapi(routers, title=TITLE, version=VERSION)

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(spec)

    async def docs_page(_request: Request) -> Response:
        return HTMLResponse(_PAGE)

    return [
        Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
        Route("/docs", docs_page, methods=["GET"], include_in_schema=False),
        Mount(ASSETS, app=StaticFiles(directory=swagger_ui_folder()), name="docs-assets"),
    ]
