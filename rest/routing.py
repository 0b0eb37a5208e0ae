"""Route lookup remembered by the path's shape.

Starlette's router tries every route's pattern in turn, and with well over a hundred routes
that scan cost as much as a cheap read's own work. The route a request reaches depends only
on its method and on its path with ids standing in for the id segments, so the router
remembers, per shape, which route handled it; the next request of that shape asks that route
alone (which still checks the path) and falls back to the full scan when it does not match.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute, Match, Router
from starlette.types import Receive, Scope, Send

# Starlette's own uuid convertor's pattern: a segment it matches matches every route the
# same way whatever the id, so paths of one shape reach one route.
_UUID = re.compile(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=/|$)")
# Shapes are few (one per route and method); anything past this is a scanner's noise, which
# takes the full scan rather than memory.
MAX_SHAPES = 2048


class ShapeRouter(Router):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shapes: dict[tuple[str, str, str], tuple[BaseRoute, Match]] = {}

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        key = (scope["type"], scope.get("method", ""), _UUID.sub("/-", scope["path"]))
        known = self._shapes.get(key)
        if known is not None:
            route, expected = known
            match, child_scope = route.matches(scope)
            if match is expected:
                scope.setdefault("router", self)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        if known is not None or len(self._shapes) >= MAX_SHAPES:
            await super().app(scope, receive, send)
            return
        asked = dict(scope)  # as the router saw it: a mount rewrites the paths it passes on
        await super().app(scope, receive, send)
        handled = scope.get("route")
        if isinstance(handled, BaseRoute):
            match, _ = handled.matches(asked)
            if match is not Match.NONE:
                self._shapes[key] = (handled, match)
