"""Reachability of the real services tests use, and the skip-or-fail rule.

Tests that need PostgreSQL or Redis run when the service answers and skip with the reason
when it does not; under `CI=true` a missing service fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get(
    "PARLEY_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@cache
def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), 1.0):
            return True
    except OSError:
        return False


def require(name: str, url: str) -> None:
    if reachable(url):
        return
    missing(f"{name} is not reachable at {url}")


def require_program(name: str, *paths: str) -> None:
    """A program a test runs (e.g. nginx), on the PATH or at one of `paths`."""
    if shutil.which(name) or any(os.access(p, os.X_OK) for p in paths):
        return
    missing(f"{name} is not installed (.ci/run installs it)")


def missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)
