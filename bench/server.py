"""A real `parley serve` child process on 127.0.0.1 (SQLite in a temporary folder) for the
benchmarks, its REST set-up (a course, a read-aloud exercise, learners), and CPU time from
/proc (psutil is not a dependency)."""

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

ADMIN_EMAIL = "bench-admin@example.org"
ADMIN_PASSWORD = "bench admin password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    admin_token: str
    pid: int | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)


def server_env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    return env | {
        "PARLEY_SERVER__DATA_DIR": str(data_dir),
        "PARLEY_DB__URL": f"sqlite+aiosqlite:///{data_dir / 'parley.db'}",
        "PARLEY_BLOBS__LOCAL_PATH": str(data_dir / "blobs"),
        "PARLEY_AUTH__SECRET_KEY": "bench-secret-" + "b" * 60,
        "PARLEY_SERVER__LOG_LEVEL": "warning",
        # One load generator on one address opens every session: throttling it would
        # measure the limits, not the node.
        "PARLEY_LIMITS__ENABLED": "false",
        # Nor refuse sessions by measured load: the bench measures what the node does with
        # every session it is given.
        "PARLEY_REALTIME__ADMISSION_LAG_MS": "0",
        **extra,
    }


@contextmanager
def local_server(data_dir: Path, extra: dict[str, str]) -> Iterator[Server]:
    """`parley serve` on a free 127.0.0.1 port, stopped (terminate, then kill) on exit."""
    env = server_env(data_dir, extra)
    parley = str(Path(sys.executable).parent / "parley")
    subprocess.run([parley, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [parley, "users", "create", "--role", "admin", "--email", ADMIN_EMAIL],
        env={**env, "PARLEY_PASSWORD": ADMIN_PASSWORD},
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [parley, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # bounded by the deadline
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)  # a child process has no readiness signal but the endpoint
        login = httpx.post(
            f"{url}/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        login.raise_for_status()
        yield Server(url, login.json()["access_token"], process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(15)


def create_exercise(server: Server, reference_text: str) -> str:
    headers = {"Authorization": f"Bearer {server.admin_token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        course = http.post("/v1/courses", json={"title": "Bench", "status": "published"})
        course.raise_for_status()
        body = {"kind": "read_aloud", "title": "Bench read-aloud", "reference_text": reference_text}
        exercise = http.post(f"/v1/courses/{course.json()['id']}/exercises", json=body)
        exercise.raise_for_status()
        exercise_id: str = exercise.json()["id"]
        return exercise_id


def register_learner(server: Server, tag: str) -> str:
    email = f"bench-{tag}-{os.urandom(4).hex()}@example.org"
    body = {"email": email, "password": "bench learner password", "display_name": "Bench"}
    response = httpx.post(f"{server.url}/v1/auth/register", json=body, timeout=30)
    response.raise_for_status()
    token: str = response.json()["tokens"]["access_token"]
    return token


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")
