"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rest import deps
from rest.api import Router
from rest.schemas.health import HealthOut, ReadyOut

router = Router("health")
log = logging.getLogger("parley.health")

CHECK_TIMEOUT_S = 2.0


@router.route(
    "GET",
    "/healthz",
    summary="The process is alive",
    response=HealthOut,
    auth=False,
    database=False,
)
async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def _check_database(request: Request) -> None:
    async with deps.state(request).engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _check_redis(request: Request) -> None:
    redis = deps.state(request).redis
    assert redis is not None
    await redis.ping()


class HubDisconnected(Exception):
    """The hub's Redis connection is down: events reach this node's observers only."""


class AtCapacity(Exception):
    """The node holds `max_sessions_per_node` live sessions: send new learners elsewhere."""


async def _check_capacity(request: Request) -> None:
    practice = getattr(request.app.state, "practice", None)
    if practice is not None and practice.registry.full:
        raise AtCapacity("no room for another session")


async def _check_hub(request: Request) -> None:
    hub = deps.state(request).hub
    if hub is not None and not hub.available:
        raise HubDisconnected("local delivery only")


@router.route(
    "GET",
    "/readyz",
    summary="Database and (when configured) Redis reachable, room for another session",
    response=ReadyOut,
    also=(503,),
    auth=False,
    # Its 503 is a ReadyOut naming the failed check, whatever failed, the database too.
    database=False,
)
async def readyz(request: Request) -> Response:
    checks = {"database": _check_database, "capacity": _check_capacity}
    if deps.state(request).redis is not None:
        checks["redis"] = _check_redis
        checks["hub"] = _check_hub
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(request), CHECK_TIMEOUT_S)
            results[name] = "ok"
        except Exception as exc:  # any failure means "not ready"; the reason is reported
            log.warning("readiness check %s failed: %s", name, exc)
            results[name] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in results.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": results},
        status_code=200 if ready else 503,
    )


@router.route(
    "GET",
    "/metrics",
    summary="Prometheus metrics (text format)",
    auth=False,
    media_type="text/plain",
    database=False,
)
async def metrics(request: Request) -> Response:
    return Response(
        deps.state(request).metrics.render(),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
