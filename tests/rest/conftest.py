"""The real app, on SQLite and on PostgreSQL, migrated with the project's migrations."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from pydantic import SecretStr
from starlette.testclient import TestClient

from realtime.settings import RealtimeSettings
from rest.app import create_app
from rest.auth.passwords import Passwords
from rest.settings import AuthSettings, ServerSettings, Settings
from rest.state import AppState
from storage import users
from storage.migrate import upgrade
from storage.models import Role
from storage.settings import BlobSettings, DatabaseSettings

SECRET = "test-secret-" + "x" * 60


def make_settings(db_url: str, tmp_path: Path, **auth: Any) -> Settings:
    return Settings(
        _env_file=None,
        server=ServerSettings(data_dir=str(tmp_path), seed_demo=False),
        db=DatabaseSettings(url=db_url),
        blobs=BlobSettings(local_path=str(tmp_path / "blobs")),
        auth=AuthSettings(secret_key=SecretStr(SECRET), **auth),
        # REST tests never stream audio; the model loads on the first practice session.
        realtime=RealtimeSettings(preload_model=False),
    )


def cheap_passwords() -> Passwords:
    # Still Argon2id, with parameters small enough for hundreds of test accounts.
    return Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@dataclass
class Account:
    id: uuid.UUID
    email: str
    password: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """The test client plus shortcuts that go through the app's own storage layer."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def state(self) -> AppState:
        state: AppState = self.client.app.state.parley  # type: ignore[attr-defined]
        return state

    def run(self, fn: Any, *args: Any) -> Any:
        """Run an async function on the app's own event loop."""
        assert self.client.portal is not None
        return self.client.portal.call(fn, *args)

    def account(self, role: Role = Role.LEARNER, name: str | None = None) -> Account:
        email = f"{name or role.value}-{uuid.uuid4().hex[:8]}@example.org"
        password = "correct horse battery"

        async def create() -> uuid.UUID:
            async with self.state.sessions.begin() as db:
                user = await users.create(
                    db,
                    email=email,
                    display_name=name or role.value.title(),
                    password_hash=self.state.passwords.hash(password),
                    role=role,
                )
                return user.id

        user_id: uuid.UUID = self.run(create)
        token = self.state.tokens.issue(user_id, role, "access")
        return Account(user_id, email, password, role, token)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    upgrade(db_url)
    return make_settings(db_url, tmp_path)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, passwords=cheap_passwords())) as client:
        yield Api(client)
