"""A private, throwaway redis-server on its own port, that a test can stop and restart."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.realtime.server import free_port


class PrivateRedis:
    """`data_dir` set: the server keeps its data (append-only file, fsync per write)
    across a kill and restart, an outage rather than a loss of data; unset: nothing kept."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        persistence = (
            ("--appendonly", "no")
            if self._dir is None
            else ("--appendonly", "yes", "--appendfsync", "always", "--dir", str(self._dir))
        )
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *persistence],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with redis.Redis(port=self.port, socket_timeout=0.5) as client:
                    if client.ping():
                        return
            except redis.RedisError:
                time.sleep(0.05)  # polling a child process that has no readiness signal
        raise TimeoutError("redis-server did not start")

    def stop(self, *, lose_data: bool = False) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        if lose_data and self._dir is not None:
            shutil.rmtree(self._dir / "appendonlydir", ignore_errors=True)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
