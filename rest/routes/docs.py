"""`/openapi.json` and `/docs`: the API description and a readable page rendered from it.

The page is rendered on the server from the same OpenAPI document, so it works without
fetching a JavaScript bundle from a CDN (many school networks and this project's own test
machines are offline).
"""

from __future__ import annotations

import html
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from rest.api import Router, openapi

TITLE = "Parley API"
VERSION = "0.1.0"

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:2.5rem}
.op{border:1px solid #e3e3e3;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700;font-family:monospace}
code,pre{background:#f6f6f6;border-radius:4px}
pre{padding:.6rem;overflow:auto;font-size:13px}
details summary{cursor:pointer;color:#555}
"""


def _render(spec: dict[str, Any]) -> str:
    by_tag: dict[str, list[str]] = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            parts = [
                f'<div class="op"><span class="m">{method.upper()}</span>'
                f"<code>{html.escape(path)}</code> — {html.escape(op['summary'])}"
            ]
            if "security" in op:
                parts.append(" <small>(bearer token)</small>")
            for param in op.get("parameters", []):
                parts.append(
                    f"<br><small>{param['in']} <code>{html.escape(param['name'])}</code>"
                    f"{' (required)' if param['required'] else ''}"
                    f" {html.escape(param.get('description', ''))}</small>"
                )
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                parts.append(
                    "<details><summary>request body</summary><pre>"
                    f"{html.escape(json.dumps(body['schema'], indent=2))}</pre></details>"
                )
            codes = ", ".join(op["responses"])
            parts.append(f"<br><small>responses: {codes}</small></div>")
            by_tag.setdefault(op["tags"][0], []).append("".join(parts))
    sections = [f"<h2>{html.escape(tag)}</h2>{''.join(ops)}" for tag, ops in by_tag.items()]
    schemas = html.escape(json.dumps(spec["components"]["schemas"], indent=2))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{TITLE}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{TITLE} {VERSION}</h1>"
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>. "
        'Errors are <code>{"error": {"code", "message", "details"}}</code>.</p>'
        f"{''.join(sections)}<h2>schemas</h2><pre>{schemas}</pre></body></html>"
    )


def routes(routers: list[Router]) -> list[Route]:
    spec = openapi(routers, title=TITLE, version=VERSION)
    page = _render(spec)

    async def openapi_json(_request: Request) -> Response:
        return JSONResponse(spec)

    async def docs_page(_request: Request) -> Response:
        return HTMLResponse(page)

    return [
        Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
        Route("/docs", docs_page, methods=["GET"], include_in_schema=False),
    ]
