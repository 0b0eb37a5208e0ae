"""The caller's own account, and user administration for admins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.users import RegisterIn, UserCreateIn, UserListQuery, UserOut, UserUpdateIn
from rest.state import AppState
from storage import audit, refresh_tokens, users
from storage.access import Principal
from storage.models import Role, User

router = Router("users")


async def create_account(
    app: AppState, data: RegisterIn, role: Role, *, by: Principal | None = None
) -> User:
    """Hash the password off the event loop (Argon2 is deliberately slow) and store; `by`:
    the admin who creates it (audited), None for a self-registration."""
    password_hash = await app.passwords.hash_async(data.password)
    async with app.sessions.begin() as db:
        user = await users.create(
            db,
            email=data.email,
            display_name=data.display_name,
            password_hash=password_hash,
            role=role,
        )
        if by is not None:
            audit.record(
                db, by, "user.created", "user", user.id, request_id=deps.request_id(), role=role
            )
        return user


@router.route("GET", "/v1/users/me", summary="The authenticated user", response=UserOut)
async def me(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions() as db:
        user = await users.get(db, who.user_id)
    return deps.respond(UserOut.model_validate(user))


@router.route(
    "POST",
    "/v1/users",
    summary="Create a user with any role (admin)",
    body=UserCreateIn,
    response=UserOut,
    status=201,
    errors=(409,),
)
async def create_user(request: Request) -> Response:
    who = await deps.principal(request, Role.ADMIN)
    app = deps.state(request)
    data = await deps.body(request, UserCreateIn)
    user = await create_account(app, data, data.role, by=who)
    return deps.respond(UserOut.model_validate(user), 201)


@router.route(
    "GET", "/v1/users", summary="List users (admin)", query=UserListQuery, response=list[UserOut]
)
async def list_users(request: Request) -> Response:
    await deps.principal(request, Role.ADMIN)
    q = deps.query(request, UserListQuery)
    async with deps.state(request).sessions() as db:
        found = await users.listing(db, role=q.role, limit=q.limit, offset=q.offset)
    return deps.respond([UserOut.model_validate(u) for u in found])


@router.route(
    "PATCH",
    "/v1/users/{user_id:uuid}",
    summary="Change a user's name, role or active flag (admin)",
    body=UserUpdateIn,
    response=UserOut,
    errors=(404,),
)
async def update_user(request: Request) -> Response:
    who = await deps.principal(request, Role.ADMIN)
    data = await deps.body(request, UserUpdateIn)
    app = deps.state(request)
    user_id = deps.path_id(request, "user_id")
    async with app.sessions.begin() as db:
        user = await users.get(db, user_id)
        before = (user.role, user.active)
        for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(user, field, value.value if isinstance(value, Role) else value)
        rid = deps.request_id()
        if user.role != before[0]:
            audit.record(
                db,
                who,
                "user.role_changed",
                "user",
                user_id,
                request_id=rid,
                old=before[0],
                new=user.role,
            )
        if user.active != before[1]:
            action: audit.Action = "user.reactivated" if user.active else "user.deactivated"
            audit.record(db, who, action, "user", user_id, request_id=rid)
        if data.active is False:
            # A disabled account signs out everywhere: re-enabling it does not revive tokens.
            await refresh_tokens.revoke_user(db, user_id)
    # Other nodes see the change within `auth.account_check_s`; this one at once.
    app.accounts.forget(user_id)
    async with app.sessions() as db:
        user = await users.get(db, user_id)
    return deps.respond(UserOut.model_validate(user))
