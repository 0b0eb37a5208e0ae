"""Fixtures shared by every test package: databases on SQLite and PostgreSQL, and moto's
server standing in for AWS (S3, Polly)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.services import POSTGRES_URL, require

REPO = Path(__file__).resolve().parent.parent
SPEECH = REPO.parent / "shared" / "speech"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    require("PostgreSQL", POSTGRES_URL)
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    yield request.getfixturevalue(name)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server, every AWS service at one address."""
    # Port 0: the server binds a free port itself, so there is no race for one.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
