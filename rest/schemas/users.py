"""Request and response bodies for auth and users."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rest.auth.passwords import MAX_LENGTH, MIN_LENGTH
from storage.models import Role

_EMAIL = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$"

Email = Annotated[
    str, Field(pattern=_EMAIL, max_length=320), AfterValidator(lambda v: v.strip().lower())
]
Password = Annotated[str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]
DisplayName = Annotated[str, Field(min_length=1, max_length=120)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterIn(Strict):
    email: Email
    password: Password
    display_name: DisplayName


class LoginIn(Strict):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]


class RefreshIn(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class LogoutIn(Strict):
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]
    everywhere: bool = Field(
        default=False, description="Also revoke every other token of the account."
    )


class PasswordChangeIn(Strict):
    current_password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
    new_password: Password


class UserCreateIn(RegisterIn):
    role: Role = Role.LEARNER


class UserUpdateIn(Strict):
    display_name: DisplayName | None = None
    role: Role | None = None
    active: bool | None = None


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime


class RegisteredOut(BaseModel):
    user: UserOut
    tokens: TokensOut


class UserListQuery(Strict):
    role: Role | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0
