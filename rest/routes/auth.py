"""Registration, login and token refresh."""

from __future__ import annotations

import asyncio
import uuid

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.routes.users import create_account
from rest.schemas.users import LoginIn, RefreshIn, RegisteredOut, RegisterIn, TokensOut, UserOut
from storage import users
from storage.errors import PermissionDenied, Unauthenticated
from storage.models import Role

router = Router("auth")


def _tokens(request: Request, user_id: uuid.UUID, role: Role) -> TokensOut:
    pair = deps.state(request).tokens.issue_pair(user_id, role)
    return TokensOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
    )


@router.route(
    "POST",
    "/v1/auth/register",
    summary="Register a learner account (when open registration is on)",
    body=RegisterIn,
    response=RegisteredOut,
    status=201,
    auth=False,
    errors=(403, 409),
)
async def register(request: Request) -> Response:
    app = deps.state(request)
    if not app.settings.auth.open_registration:
        raise PermissionDenied("registration is closed", code="registration_closed")
    data = await deps.body(request, RegisterIn)
    user = await create_account(app, data, Role.LEARNER)
    out = RegisteredOut(
        user=UserOut.model_validate(user), tokens=_tokens(request, user.id, Role.LEARNER)
    )
    return deps.respond(out, 201)


@router.route(
    "POST",
    "/v1/auth/login",
    summary="Exchange email and password for access and refresh tokens",
    body=LoginIn,
    response=TokensOut,
    auth=False,
)
async def login(request: Request) -> Response:
    app = deps.state(request)
    data = await deps.body(request, LoginIn)
    async with app.sessions() as db:
        user = await users.by_email(db, data.email)
    stored = user.password_hash if user is not None and user.active else None
    # Always verify (against a dummy hash when needed) so timing does not reveal accounts.
    ok = await asyncio.to_thread(app.passwords.verify, stored, data.password)
    if not ok or user is None:
        raise Unauthenticated("wrong email or password", code="bad_credentials")
    return deps.respond(_tokens(request, user.id, Role(user.role)))


@router.route(
    "POST",
    "/v1/auth/refresh",
    summary="Exchange a refresh token for a new token pair",
    body=RefreshIn,
    response=TokensOut,
    auth=False,
)
async def refresh(request: Request) -> Response:
    app = deps.state(request)
    data = await deps.body(request, RefreshIn)
    claimed = app.tokens.verify(data.refresh_token, "refresh")
    async with app.sessions() as db:
        user = await users.get(db, claimed.user_id)
    if not user.active:
        raise Unauthenticated("account disabled", code="account_disabled")
    # The role comes from the database, so a demotion takes effect at the next refresh.
    return deps.respond(_tokens(request, user.id, Role(user.role)))
