"""The app factory: `create_app(settings)` wires every part inside the lifespan.

Nothing is built at import time. The lifespan opens the database engine, the blob store and
(when configured) Redis on the serving loop, and closes them in reverse order.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import WebSocketRoute

from realtime.endpoint import practice_endpoint
from realtime.observe import ObserveService, observe_endpoint
from realtime.observe_access import ObserveAccess
from realtime.throttle import Throttle
from rest import web
from rest.access_log import AccessLog
from rest.api import Router, starlette_routes
from rest.auth.accounts import Accounts, socket_authenticator
from rest.auth.passwords import Passwords
from rest.auth.tokens import TokenService, load_or_create_secret
from rest.demo_seed import ensure_demo
from rest.errors import database_error, http_error, parley_error, unexpected_error
from rest.hub import build_hub
from rest.hub_metrics import HubCollector
from rest.metrics import Metrics, MetricsMiddleware
from rest.model_audio import ModelAudio
from rest.practice import build_practice
from rest.rescore_progress import HubProgress
from rest.rescoring import rescoring
from rest.routes import (
    audit,
    auth,
    courses,
    docs,
    exercises,
    health,
    library,
    model_audio,
    recommendations,
    rescore_jobs,
    rubrics,
    sessions,
    statistics,
    text_analysis,
    tutor,
    users,
)
from rest.routing import ShapeRouter
from rest.security_headers import SecurityHeaders
from rest.settings import Settings
from rest.state import AppState
from speech.tts.factory import create_voice
from storage.blob_factory import create_blob_store
from storage.engine import create_engine, create_sessionmaker
from storage.errors import ParleyError

log = logging.getLogger("parley")

ROUTERS: list[Router] = [
    health.router,
    auth.router,
    users.router,
    courses.router,
    exercises.router,
    rubrics.router,
    model_audio.router,
    sessions.router,
    tutor.router,
    statistics.router,
    recommendations.router,
    text_analysis.router,
    library.router,
    rescore_jobs.router,
    audit.router,
]


def node_name(settings: Settings) -> str:
    return settings.server.node_name()


def create_app(
    settings: Settings, *, passwords: Passwords | None = None, freeze_heap: bool = False
) -> Starlette:
    """Build the app; `passwords` may be injected (tests use cheaper Argon2 parameters).
    `freeze_heap`: for a process that serves this one app until it exits (`parley serve`),
    not for tests that build many."""
    metrics = Metrics()
    hasher = passwords or Passwords(concurrency=settings.auth.hash_concurrency)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            engine = create_engine(settings.db)
            stack.push_async_callback(engine.dispose)
            blobs = await create_blob_store(settings.blobs)
            stack.push_async_callback(blobs.close)
            redis: Redis | None = None
            if settings.redis.url:
                redis = Redis.from_url(settings.redis.url)
                stack.push_async_callback(redis.aclose)
            secret = load_or_create_secret(settings.auth, Path(settings.server.data_dir))
            sessionmaker = create_sessionmaker(engine)
            app.state.parley = AppState(
                settings=settings,
                engine=engine,
                sessions=sessionmaker,
                blobs=blobs,
                tokens=TokenService(settings.auth, secret),
                passwords=hasher,
                accounts=Accounts(sessionmaker, ttl_s=settings.auth.account_check_s),
                throttle=Throttle.create(
                    settings.redis.url,
                    prefix=settings.redis.key_prefix,
                    enabled=settings.limits.enabled,
                ),
                metrics=metrics,
                node_id=node_name(settings),
                redis=redis,
            )
            stack.push_async_callback(app.state.parley.throttle.aclose)
            app.state.parley.model_audio = ModelAudio(
                create_voice(settings.tts), blobs, default_rate=settings.tts.rate
            )
            stack.push_async_callback(app.state.parley.model_audio.close)
            if settings.server.seed_demo:
                await ensure_demo(app.state.parley.sessions)
            # Started before the practice service and closed after it, so sessions' last
            # events are still published.
            hub = build_hub(settings, app.state.parley.node_id)
            await hub.start()
            stack.push_async_callback(hub.aclose)
            app.state.parley.hub = hub
            collector = HubCollector(hub)
            metrics.registry.register(collector)
            stack.callback(metrics.registry.unregister, collector)
            app.state.observe = ObserveService(
                hub=hub,
                access=ObserveAccess(app.state.parley.sessions),
                authenticate=socket_authenticator(
                    app.state.parley.tokens, app.state.parley.accounts
                ),
                settings=settings.hub,
                recheck_s=max(1.0, settings.auth.account_check_s),
            )
            practice = await build_practice(app.state.parley)
            stack.push_async_callback(practice.close)
            app.state.practice = practice
            app.state.rescore_queue = await stack.enter_async_context(
                rescoring(
                    app.state.parley,
                    busy=lambda: len(practice.registry) > 0,
                    publish=HubProgress(hub.announce, app.state.parley.node_id),
                )
            )
            if freeze_heap:
                # The modules, settings and services built so far live as long as the
                # process. Left to the collector, each full collection walked all of them
                # (about 250,000 objects): a 100 ms stall every half minute or so, every
                # request in flight included. Frozen, a collection walks only what came
                # after.
                gc.collect()
                gc.freeze()
            log.info("parley node %s ready", app.state.parley.node_id)
            yield

    app = Starlette(
        routes=[
            *starlette_routes(ROUTERS),
            *docs.routes(ROUTERS),
            WebSocketRoute("/v1/ws/practice", practice_endpoint),
            WebSocketRoute("/v1/ws/observe", observe_endpoint),
            *web.routes(),
        ],
        middleware=[
            Middleware(AccessLog),
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(SecurityHeaders),
            *cors(settings.server.cors_origins),
        ],
        exception_handlers={
            ParleyError: parley_error,
            HTTPException: http_error,
            # Raised by the database driver or SQLAlchemy: an outage answers 503.
            OSError: database_error,
            DBAPIError: database_error,
            PoolTimeout: database_error,
            Exception: unexpected_error,
        },
        lifespan=lifespan,
    )
    app.router = ShapeRouter(app.router.routes, lifespan=lifespan)
    return app


def cors(origins: list[str]) -> list[Middleware]:
    """CORS for the configured origins only; none by default. Tokens travel in headers, not
    cookies, so credentials are not allowed."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After"],
            max_age=600,
        )
    ]


def app_from_environment() -> Starlette:
    """Zero-argument factory for `uvicorn --factory rest.app:app_from_environment`."""
    return create_app(Settings())
