"""Security headers on every HTTP response: the web app's pages, the API console and the API.

The app's policy allows only this origin's own files: no inline script or style, no `eval`,
nothing from a CDN. `connect-src 'self'` covers the same host's `ws:`/`wss:` (CSP level 3).
The recording plays from a `blob:` URL (fetched with the bearer token, then handed to an
`<audio>` element), hence `media-src blob:`. A route that needs another policy (`/docs`) sets
its own header, which this middleware leaves alone.

A plain ASGI middleware rather than `BaseHTTPMiddleware`: it touches only the response's
start message, so streamed bodies and websockets pass through untouched.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", APP_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    # The practice page asks for the microphone; nothing here needs the rest.
    ("Permissions-Policy", "microphone=(self), camera=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
