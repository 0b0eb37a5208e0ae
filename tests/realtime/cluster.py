"""Two real `parley serve` nodes sharing Redis and PostgreSQL, for the hub's end-to-end tests."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.realtime.observer import School, build_school
from tests.realtime.server import Server, running_server
from tests.services import POSTGRES_URL, require


async def _admin_sql(statement: str) -> None:
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await admin.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database shared by a module's nodes, dropped afterwards."""
    require("PostgreSQL", POSTGRES_URL)
    name = f"parley_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Cluster:
    a: Server
    b: Server
    school: School
    prefix: str


@contextmanager
def cluster(data_dir: Path, db_url: str, redis_url: str, **extra: str) -> Iterator[Cluster]:
    prefix = f"parley-test-{uuid.uuid4().hex[:10]}"
    # Any: keyword values for `running_server`, whose own `first` is not among them.
    shared: dict[str, Any] = {
        "PARLEY_REDIS__URL": redis_url,
        "PARLEY_REDIS__KEY_PREFIX": prefix,
        **extra,
    }
    (data_dir / "a").mkdir()
    (data_dir / "b").mkdir()
    try:
        with (
            running_server(data_dir / "a", db_url, PARLEY_SERVER__NODE_ID="node-a", **shared) as a,
            running_server(
                data_dir / "b", db_url, first=False, PARLEY_SERVER__NODE_ID="node-b", **shared
            ) as b,
        ):
            yield Cluster(a, b, build_school(a), prefix)
    finally:
        forget(redis_url, prefix)


def forget(redis_url: str, prefix: str) -> None:
    """Leave nothing of the test in a shared Redis (a stopped private one has nothing)."""
    redis = Redis.from_url(redis_url, socket_connect_timeout=1.0)
    try:
        keys = list(redis.scan_iter(match=f"{prefix}:*"))
        if keys:
            redis.delete(*keys)
    except RedisError:
        pass
    finally:
        redis.close()


async def eventually(check: Callable[[], Awaitable[bool]], limit_s: float = 10.0) -> float:
    """Poll `check` (state another process owns, with no event to wait on) until it holds;
    returns the seconds it took."""
    started = time.monotonic()
    async with asyncio.timeout(limit_s):
        while True:
            if await check():
                return time.monotonic() - started
            await asyncio.sleep(0.05)
