"""A real Parley server in a child process (`parley serve`), for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
SECRET = "e2e-secret-" + "z" * 60
ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "admin password 1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")


def server_env(data_dir: Path, db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env |= {
        "PARLEY_SERVER__DATA_DIR": str(data_dir),
        "PARLEY_DB__URL": db_url,
        "PARLEY_BLOBS__LOCAL_PATH": str(data_dir / "blobs"),
        "PARLEY_AUTH__SECRET_KEY": SECRET,
        "PARLEY_SERVER__LOG_LEVEL": "warning",
        # Admission by load would refuse a test's second learner whenever the shared test
        # machine is slow; the tests of admission turn it on themselves.
        "PARLEY_REALTIME__ADMISSION_LAG_MS": "0",
        **extra,
    }
    return env


@contextmanager
def sqlite_server(data_dir: Path, **extra: str) -> Iterator[Server]:
    """`running_server` on a fresh SQLite database in `data_dir`."""
    url = f"sqlite+aiosqlite:///{data_dir / 'parley.db'}"
    with running_server(data_dir, url, first=True, **extra) as s:
        yield s


@contextmanager
def running_server(
    data_dir: Path, db_url: str, *, first: bool = True, **extra: str
) -> Iterator[Server]:
    """`first`: migrate the database and create the admin (False for a further node)."""
    env = server_env(data_dir, db_url, **extra)
    parley = str(BIN / "parley")
    if first:
        subprocess.run([parley, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run(
            [parley, "users", "create", "--role", "admin", "--email", ADMIN_EMAIL],
            env={**env, "PARLEY_PASSWORD": ADMIN_PASSWORD},
            check=True,
            capture_output=True,
        )
    port = free_port()
    log = data_dir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [parley, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a child process that has no readiness signal of its own
    raise TimeoutError(f"server not ready:\n{server.log.read_text()[-3000:]}")
