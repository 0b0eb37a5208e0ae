"""Prometheus metrics: one registry per app, so several apps in one process never collide."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from speech.llm.result import NOT_CONFIGURED, FeedbackResult

# LLM calls take seconds, not milliseconds: the default buckets would lump them together.
LLM_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "parley_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "parley_http_request_seconds",
            "HTTP request latency by route template.",
            ["route", "method"],
            registry=self.registry,
        )
        self.llm_latency = Histogram(
            "parley_llm_seconds",
            "Time of the LLM feedback stage per session (queueing and retries included).",
            ["source"],
            buckets=LLM_BUCKETS,
            registry=self.registry,
        )
        self.llm_errors = Counter(
            "parley_llm_errors",
            "LLM feedback that fell back to local feedback, by reason.",
            ["reason"],
            registry=self.registry,
        )

    def observe_llm(self, result: FeedbackResult) -> None:
        """The feedback stage's callback. A stage that is off asks no LLM: not counted."""
        if result.reason == NOT_CONFIGURED:
            return
        self.llm_latency.labels(result.source).observe(result.latency_ms / 1000)
        if result.source == "local":
            self.llm_errors.labels(result.reason_kind or "unknown").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts requests under their route template (not the raw path: ids would explode it)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = _template(scope)
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - started)


def _template(scope: Scope) -> str:
    """The matched route's path template, which the router leaves in the scope: matching
    every route a second time here cost as much as the router's own matching."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched")) if route is not None else "unmatched"
