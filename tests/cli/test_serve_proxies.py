"""`parley serve` believes X-Forwarded-For only from `limits.trusted_proxies`: behind a
trusted proxy each client is counted on its own; from anyone else the header is ignored, so
a client cannot dodge a limit by writing it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.realtime.server import sqlite_server

pytestmark = pytest.mark.slow


def attempts(url: str, forwarded: list[str]) -> list[int]:
    body = {"email": "nobody@example.org", "password": "wrong password"}
    return [
        httpx.post(f"{url}/v1/auth/login", json=body, headers={"X-Forwarded-For": f}).status_code
        for f in forwarded
    ]


LIMITS = {
    "PARLEY_LIMITS__LOGIN_PER_ADDRESS": "2/minute",
    "PARLEY_LIMITS__LOGIN_PER_ACCOUNT": "100/minute",
    "PARLEY_REALTIME__PRELOAD_MODEL": "false",
}


def test_behind_a_trusted_proxy_each_client_counts_apart(tmp_path: Path) -> None:
    trusted = {"PARLEY_LIMITS__TRUSTED_PROXIES": '["127.0.0.1/32"]'}
    with sqlite_server(tmp_path, **LIMITS, **trusted) as server:
        a, b = "198.51.100.1", "198.51.100.2"
        assert attempts(server.url, [a, a, a, b]) == [401, 401, 429, 401]


def test_an_untrusted_peer_s_forwarded_for_is_ignored(tmp_path: Path) -> None:
    with sqlite_server(tmp_path, **LIMITS) as server:
        spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        assert attempts(server.url, spoofed) == [401, 401, 429]
