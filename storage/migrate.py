"""Schema migrations driven from code: upgrade, downgrade, new revisions and drift checks.

The Alembic scripts live in `storage/migrations` and are found relative to this file, so
the commands work from an installed package and from any working directory; there is no
alembic.ini. The database URL travels in the `Config` object, never through settings read
inside env.py, so whoever calls decides which database is migrated.

env.py drives the async engine with `asyncio.run`, which refuses to run inside a running
event loop. The CLI calls the plain functions (no loop running); code already on a loop
(tests, an app start-up hook) awaits the `_async` variants, which run the same command in a
worker thread that has no loop of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from storage import library_models  # noqa: F401  (its tables join Base.metadata)
from storage.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


def alembic_config(url: str | None = None) -> Config:
    """A programmatic Alembic config for `url` (None is enough for reading the scripts)."""
    config = Config(attributes={"url": url} if url else None)
    # Main options pass through ConfigParser interpolation, hence the doubled percent signs.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


def context_options(dialect_name: str) -> dict[str, Any]:
    """Migration context options shared by env.py and `schema_diff`, so both see alike."""
    return {
        "compare_type": True,
        # Checked clean on SQLite and PostgreSQL; keeps boolean server defaults from drifting.
        "compare_server_default": True,
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        "render_as_batch": dialect_name == "sqlite",
    }


def prepare_database(url: str) -> None:
    """Create the folder of a SQLite file database: SQLite makes the file, not its folder."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):  # URI filenames carry their own path syntax
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _refuse_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name}() was called on a running event loop: await {name}_async()")


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision`; call with no event loop running."""
    _refuse_running_loop("upgrade")
    prepare_database(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at `url` down to `revision` ("base" drops every table)."""
    _refuse_running_loop("downgrade")
    prepare_database(url)
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)


async def downgrade_async(url: str, revision: str) -> None:
    await asyncio.to_thread(downgrade, url, revision)


def head_revision() -> str | None:
    """The revision the code expects; None only if there are no migrations at all."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def make_revision(url: str, message: str, *, autogenerate: bool = True) -> Path:
    """Write the next numbered revision, diffing the models against the database at `url`.

    For developers: `url` must point at a scratch database already upgraded to head. The
    generated file needs reviewing by hand (autogenerate misses CHECK constraints and renames).
    """
    _refuse_running_loop("make_revision")
    prepare_database(url)
    config = alembic_config(url)
    count = sum(1 for _ in ScriptDirectory.from_config(config).walk_revisions())
    script = command.revision(
        config, message=message, autogenerate=autogenerate, rev_id=f"{count + 1:04d}"
    )
    if script is None or isinstance(script, list):
        raise RuntimeError("alembic did not write exactly one revision")
    return Path(script.path)


@asynccontextmanager
async def _connect(url: str) -> AsyncIterator[AsyncConnection]:
    prepare_database(url)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def _inspect(url: str, fn: Callable[[Connection], T]) -> T:
    async with _connect(url) as connection:
        return await connection.run_sync(fn)


async def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at; None for an unmigrated database."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    return await _inspect(url, read)


async def schema_diff(url: str) -> list[Any]:
    """Differences between the models and the database at `url`; empty when in sync.

    Each item is an Alembic autogenerate diff such as ("add_table", Table) or, for column
    changes, a list of ("modify_type", ...) tuples. CHECK constraints are not compared.
    """

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts=context_options(connection.dialect.name)
        )
        return list(compare_metadata(context, Base.metadata))

    return await _inspect(url, compare)
