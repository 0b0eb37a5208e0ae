"""One real server (child process, SQLite, real model) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.realtime.client import World, build_world
from tests.realtime.server import sqlite_server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with sqlite_server(
        tmp_path_factory.mktemp("server"),
        PARLEY_REALTIME__IDLE_TIMEOUT_S="3",
        PARLEY_REALTIME__RESUME_GRACE_S="10",
        PARLEY_REALTIME__MAX_FRAME_BYTES="65536",
        PARLEY_REALTIME__MAX_SESSIONS_PER_USER="2",
    ) as server:
        yield build_world(server)
