"""Declared endpoints: a Starlette route plus what OpenAPI needs to describe it.

Handlers stay plain `async def handler(request) -> Response`; the declaration records the
request body, query and response models so `/openapi.json` describes every route from the
same pydantic models the handlers validate with.

The error statuses that follow from the declaration itself are added here, so the document
cannot forget them (`error_statuses`); a route lists in `errors` only what its own logic
answers (404 of a lookup, 409, 429 of a rate limit, ...).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, TypeAdapter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a BaseModel subclass or a type such as list[Model]
    status: int = 200
    auth: bool = True
    errors: tuple[int, ...] = ()
    also: tuple[int, ...] = ()  # other success statuses with the same body (e.g. 200 and 201)
    media_type: str = "application/json"
    database: bool = True  # False: answers without the database, so never 503 for its outage


@dataclass
class Router:
    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        auth: bool = True,
        errors: tuple[int, ...] = (),
        also: tuple[int, ...] = (),
        media_type: str = "application/json",
        database: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method,
                    path=path,
                    handler=handler,
                    summary=summary,
                    tag=self.tag,
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    auth=auth,
                    errors=errors,
                    also=also,
                    media_type=media_type,
                    database=database,
                )
            )
            return handler

        return register


def starlette_routes(routers: list[Router]) -> list[Route]:
    return [
        Route(e.path, e.handler, methods=[e.method], name=f"{e.tag}:{e.handler.__name__}")
        for router in routers
        for e in router.endpoints
    ]


_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
_ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
# Starlette's path convertors, as the values they match.
_CONVERTORS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "uuid": {"type": "string", "format": "uuid"},
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "path": {"type": "string"},
}


def error_statuses(e: Endpoint) -> set[int]:
    """Every error status `e` can answer: its own `errors` plus those its declaration implies.

    401 and 403: an authenticated route refuses a missing, expired or revoked token, a
    disabled account, or a role it does not serve. 400, 413, 422: a JSON body may be no JSON
    or of another content type, too large, or invalid. 422: invalid query parameters. 404:
    the router answers it for a path whose parameter does not match (e.g. an id that is no
    UUID), the handler for a row that is not there or not visible. 503: the database is
    unavailable.
    """
    codes = set(e.errors)
    if e.auth:
        codes |= {401, 403}
    if e.body is not None:
        codes |= {400, 413, 422}
    if e.query is not None:
        codes.add(422)
    if _PARAM.search(e.path):
        codes.add(404)
    if e.database:
        codes.add(503)
    return codes


def _schema(tp: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(tp).json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    return schema


def _ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    components[model.__name__] = _schema(model, components)
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def openapi(routers: list[Router], *, title: str, version: str) -> dict[str, Any]:
    components: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                }
            },
        }
    }
    paths: dict[str, Any] = {}
    for router in routers:
        for e in router.endpoints:
            path = _PARAM.sub(r"{\1}", e.path)
            op: dict[str, Any] = {
                "summary": e.summary,
                "tags": [e.tag],
                "operationId": f"{e.tag}_{e.handler.__name__}",
            }
            params = [
                {"name": n, "in": "path", "required": True, "schema": _CONVERTORS[kind or "str"]}
                for n, kind in _PARAM.findall(e.path)
            ]
            if e.query is not None:
                for name, info in e.query.model_fields.items():
                    params.append(
                        {
                            "name": info.alias or name,
                            "in": "query",
                            "required": info.is_required(),
                            "description": info.description or "",
                            "schema": _schema(info.annotation, components),
                        }
                    )
            if params:
                op["parameters"] = params
            if e.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(e.body, components)}},
                }
            ok: dict[str, Any] = {}
            if e.response is not None:
                ok["content"] = {e.media_type: {"schema": _schema(e.response, components)}}
            elif e.media_type != "application/json":
                binary = {"type": "string", "format": "binary"}
                ok["content"] = {e.media_type: {"schema": binary}}
            responses: dict[str, Any] = {
                str(code): {**ok, "description": HTTPStatus(code).phrase}
                for code in (e.status, *e.also)
            }
            for code in sorted(error_statuses(e)):
                responses[str(code)] = {
                    "description": HTTPStatus(code).phrase,
                    "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                }
            op["responses"] = responses
            if e.auth:
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
