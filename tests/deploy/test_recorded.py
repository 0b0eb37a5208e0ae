"""`status` and `down` on a topology that `up` left running: they find its processes by pid
and start time, stop them, drop the scratch database, and never signal a stranger."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.processes import running, started_at, stop
from deploy.recorded import STATE, execute
from deploy.topology import main
from tests.services import POSTGRES_URL, require

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started = [subprocess.Popen(SLEEPER) for _ in range(2)]
    yield started
    for process in started:
        process.kill()
        process.wait()


@pytest.fixture
def database() -> Iterator[str]:
    """A scratch database for `down` to drop (dropped here too if the test fails first)."""
    require("PostgreSQL", POSTGRES_URL)
    name = f"parley_topology_{uuid.uuid4().hex[:10]}"
    asyncio.run(execute(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    yield name
    asyncio.run(execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}"'))


def exists(database: str) -> bool:
    async def count() -> int:
        engine = create_async_engine(POSTGRES_URL)
        try:
            async with engine.connect() as conn:
                query = f"SELECT count(*) FROM pg_database WHERE datname = '{database}'"
                return int((await conn.exec_driver_sql(query)).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(count()) == 1


def test_a_process_is_known_by_its_pid_and_start_time(
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    first, second = sleepers
    born = started_at(first.pid)
    assert running(first.pid, born)
    assert not running(first.pid, born + 1)  # the same pid, another process: not ours
    assert stop([(first.pid, born + 1)]) == []
    assert first.poll() is None
    assert stop([(first.pid, born), (second.pid, started_at(second.pid))], grace_s=5) == [
        first.pid,
        second.pid,
    ]
    assert first.wait(5) == -15 and second.wait(5) == -15  # SIGTERM, as `down` sends


def test_status_and_down(
    sleepers: list[subprocess.Popen[bytes]],
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert exists(database)
    live, gone = sleepers
    gone.kill()
    gone.wait()
    processes = {
        "redis": {"pid": live.pid, "started": started_at(live.pid)},
        "s3": {"pid": gone.pid, "started": 1},
    }
    state = {
        "postgres": POSTGRES_URL,
        "db_url": make_url(POSTGRES_URL).set(database=database).render_as_string(False),
        "ports": {"lb": 1, "api-1": 2, "api-2": 3},
        "processes": processes,
        "stages": [["lb"], ["redis", "s3"]],
        "ready_urls": {},
        "admin": "admin@example.org / password",
    }
    (tmp_path / STATE).write_text(json.dumps(state))

    assert main(["status", "--dir", str(tmp_path)]) == 1  # one of them is not running
    out = capsys.readouterr().out
    assert f"redis     pid {live.pid:<8} running" in out
    assert f"s3        pid {gone.pid:<8} not running" in out
    assert main(["up", "--dir", str(tmp_path)]) == 1  # recorded: `down` first
    assert "`down` first" in capsys.readouterr().err

    assert main(["down", "--dir", str(tmp_path)]) == 0
    assert "redis: stopped\ns3: not running\n" in capsys.readouterr().out
    assert live.wait(5) == -15
    assert not exists(database)
    assert not (tmp_path / STATE).exists()
    assert main(["status", "--dir", str(tmp_path)]) == 1
    assert "no topology is up here" in capsys.readouterr().err
