"""Registration, login, token refresh (rotated, with reuse detection), logout and password
change. Refresh tokens are recorded (`storage.refresh_tokens`) so that each works once and a
copied one revokes its family."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.routes.users import create_account
from rest.schemas.users import (
    LoginIn,
    LogoutIn,
    PasswordChangeIn,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    TokensOut,
    UserOut,
)
from rest.state import AppState
from storage import refresh_tokens, users
from storage.errors import PermissionDenied, Unauthenticated
from storage.models import Role, User

router = Router("auth")

_REFUSED = {
    "unknown": "unknown refresh token; sign in again",
    "reused": "refresh token already used: every token of this sign-in is revoked; sign in again",
    "revoked": "refresh token revoked; sign in again",
    "expired": "refresh token expired; sign in again",
}


async def issue(app: AppState, user: User, family: str | None = None) -> TokensOut:
    """A token pair for `user`, its refresh token recorded (continuing `family` if given)."""
    pair = app.tokens.issue_pair(
        user.id, Role(user.role), version=user.token_version, family=family
    )
    async with app.sessions.begin() as db:
        await refresh_tokens.record(
            db,
            jti=pair.refresh_jti,
            family=pair.family,
            user_id=user.id,
            expires_at=pair.refresh_expires_at,
        )
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
    errors=(403, 409, 429),
)
async def register(request: Request) -> Response:
    app = deps.state(request)
    if not app.settings.auth.open_registration:
        raise PermissionDenied("registration is closed", code="registration_closed")
    await deps.limit(request, "register", "register_per_address", deps.client_address(request))
    data = await deps.body(request, RegisterIn)
    user = await create_account(app, data, Role.LEARNER)
    out = RegisteredOut(user=UserOut.model_validate(user), tokens=await issue(app, user))
    return deps.respond(out, 201)


@router.route(
    "POST",
    "/v1/auth/login",
    summary="Exchange email and password for access and refresh tokens",
    body=LoginIn,
    response=TokensOut,
    auth=False,
    errors=(401, 429),
)
async def login(request: Request) -> Response:
    app = deps.state(request)
    await deps.limit(request, "login-address", "login_per_address", deps.client_address(request))
    data = await deps.body(request, LoginIn)
    await deps.limit(request, "login-account", "login_per_account", data.email)
    async with app.sessions() as db:
        user = await users.by_email(db, data.email)
    stored = user.password_hash if user is not None and user.active else None
    # Always verify (against a dummy hash when needed) so timing does not reveal accounts.
    ok = await app.passwords.verify_async(stored, data.password)
    if not ok or user is None:
        raise Unauthenticated("wrong email or password", code="bad_credentials")
    return deps.respond(await issue(app, user))


@router.route(
    "POST",
    "/v1/auth/refresh",
    summary="Exchange a refresh token for a new pair; the presented token is used up",
    body=RefreshIn,
    response=TokensOut,
    auth=False,
    errors=(401, 429),
)
async def refresh(request: Request) -> Response:
    app = deps.state(request)
    await deps.limit(request, "refresh", "refresh_per_address", deps.client_address(request))
    data = await deps.body(request, RefreshIn)
    claims = app.tokens.claims(data.refresh_token, "refresh")
    refused: str | None = None
    # The revocation of a reused token's family must be committed, so refusals are raised
    # after the transaction.
    async with app.sessions.begin() as db:
        user = await db.get(User, claims.user_id)
        if user is None:
            raise Unauthenticated("the account no longer exists", code="account_not_found")
        if not user.active:
            raise Unauthenticated("account disabled", code="account_disabled")
        if claims.version < user.token_version or claims.family is None:
            refused = "revoked"
        else:
            used = await refresh_tokens.use(db, claims.jti, user.id)
            refused = used.refused
    if refused is not None:
        raise Unauthenticated(_REFUSED[refused], code=f"refresh_{refused}")
    # The role comes from the database, so a demotion shows in the next token too.
    return deps.respond(await issue(app, user, claims.family))


@router.route(
    "POST",
    "/v1/auth/logout",
    summary="Revoke a refresh token's sign-in (with `everywhere`, every token of the account)",
    body=LogoutIn,
    status=204,
    auth=False,
    errors=(401, 429),
)
async def logout(request: Request) -> Response:
    app = deps.state(request)
    await deps.limit(request, "refresh", "refresh_per_address", deps.client_address(request))
    data = await deps.body(request, LogoutIn)
    claims = app.tokens.claims(data.refresh_token, "refresh")
    async with app.sessions.begin() as db:
        if data.everywhere:
            await refresh_tokens.revoke_user(db, claims.user_id)
        elif claims.family is not None:
            await refresh_tokens.revoke_family(db, claims.family)
    app.accounts.forget(claims.user_id)
    return Response(status_code=204)


@router.route(
    "POST",
    "/v1/users/me/password",
    summary="Change the caller's password; every earlier token is revoked",
    body=PasswordChangeIn,
    response=TokensOut,
    errors=(401, 429),
)
async def change_password(request: Request) -> Response:
    app = deps.state(request)
    who = await deps.principal(request)
    data = await deps.body(request, PasswordChangeIn)
    await deps.limit(request, "login-account", "login_per_account", str(who.user_id))
    async with app.sessions() as db:
        current = await users.get(db, who.user_id)
    if not await app.passwords.verify_async(current.password_hash, data.current_password):
        raise Unauthenticated("wrong current password", code="bad_credentials")
    new_hash = await app.passwords.hash_async(data.new_password)
    async with app.sessions.begin() as db:
        await refresh_tokens.revoke_user(db, who.user_id)
        user = await users.get(db, who.user_id)
        user.password_hash = new_hash
    async with app.sessions() as db:
        user = await users.get(db, who.user_id)
    app.accounts.forget(who.user_id)
    return deps.respond(await issue(app, user))
