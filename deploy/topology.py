"""compose.yaml's topology on one machine, with real processes and no Docker: nginx (from
deploy/nginx.conf) in front of two `parley serve` nodes, two `parley worker`s, PostgreSQL,
Redis and an S3-compatible store (moto's server standing in for MinIO).

    .venv/bin/python -m deploy.topology [--postgres URL] [--dir DIR]

starts it all, prints the load balancer's URL and the admin's credentials, and runs until
Ctrl-C. PostgreSQL is the one already running (a scratch database is created and dropped);
Redis, the S3 store, the nodes, the workers and nginx are this script's own processes, so a
test can kill and restart each of them (tests/deploy/test_topology.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "topology admin password"
NODES, WORKERS = ("api-1", "api-2"), ("worker-1", "worker-2")


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 1):
        return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def nginx_conf(prefix: Path, listen: int, nodes: dict[str, int]) -> str:
    """deploy/nginx.conf (compose's `lb`), pointed at this machine's ports, inside the few
    lines a stand-alone nginx needs (its pid, logs and temp files under `prefix`)."""
    server = (HERE / "nginx.conf").read_text()
    for name, port in nodes.items():
        server = server.replace(f"server {name}:8000", f"server 127.0.0.1:{port}")
    server = server.replace("listen 8000;", f"listen 127.0.0.1:{listen};")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        "worker_processes 1;\nevents { worker_connections 4096; }\n"
        f"http {{\n    access_log {prefix}/access.log;\n{temp}\n{server}\n}}\n"
    )


@dataclass
class Topology:
    root: Path
    postgres: str = POSTGRES
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    db_url: str = ""
    secret: str = field(default_factory=lambda: uuid.uuid4().hex * 2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['lb']}"

    def node_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        return env | {
            "PARLEY_DB__URL": self.db_url,
            "PARLEY_REDIS__URL": self.redis_url,
            "PARLEY_BLOBS__BACKEND": "s3",
            "PARLEY_BLOBS__S3_BUCKET": "parley-audio",
            "PARLEY_BLOBS__S3_ENDPOINT_URL": f"http://127.0.0.1:{self.ports['s3']}",
            "PARLEY_BLOBS__S3_ACCESS_KEY_ID": "parley",
            "PARLEY_BLOBS__S3_SECRET_ACCESS_KEY": "parley-secret",
            "PARLEY_BLOBS__S3_CREATE_BUCKET": "true",
            "PARLEY_AUTH__SECRET_KEY": self.secret,
            "PARLEY_LIMITS__TRUSTED_PROXIES": '["127.0.0.1"]',
            # Short, so a killed worker's task is reclaimed within a test's patience.
            "PARLEY_WORKERS__RECLAIM_IDLE_S": "3",
            **extra,
        }

    def start(self) -> None:
        for name in ("lb", "s3", "redis", *NODES):
            self.ports[name] = free_port()
        self._database()
        self.spawn("s3", [str(BIN / "moto_server"), "-p", str(self.ports["s3"])])
        self.start_redis()
        self._wait(lambda: httpx.get(f"http://127.0.0.1:{self.ports['s3']}/").status_code < 500)
        self.run("parley", "db", "upgrade")
        self.run(
            "parley",
            "users",
            "create",
            "--role",
            "admin",
            "--email",
            ADMIN_EMAIL,
            env={"PARLEY_PASSWORD": ADMIN_PASSWORD},
        )
        for name in NODES:
            self.start_node(name)
        for name in WORKERS:
            self.spawn(name, [str(BIN / "parley"), "worker", "--name", name], self.env())
        nodes = {name: self.ports[name] for name in NODES}
        (self.root / "nginx").mkdir(exist_ok=True)
        conf = self.root / "nginx" / "nginx.conf"
        conf.write_text(nginx_conf(self.root / "nginx", self.ports["lb"], nodes))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.spawn(
            "lb", [nginx, "-p", str(self.root / "nginx"), "-c", str(conf), "-g", "daemon off;"]
        )
        self._wait(lambda: httpx.get(f"{self.url}/readyz").status_code == 200)

    def start_node(self, name: str) -> None:
        env = self.env(PARLEY_SERVER__NODE_ID=name, PARLEY_SERVER__DATA_DIR=str(self.root / name))
        port = str(self.ports[name])
        self.spawn(name, [str(BIN / "parley"), "serve", "--host", "127.0.0.1", "--port", port], env)
        self._wait(lambda: httpx.get(f"{self.node_url(name)}/readyz").status_code == 200)

    def start_redis(self) -> None:
        port = str(self.ports["redis"])
        command = ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", ""]
        self.spawn("redis", [*command, "--appendonly", "no"])
        self._wait(lambda: _accepts(int(port)))

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        with (self.root / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root
            )

    def run(self, *command: str, env: dict[str, str] | None = None) -> None:
        path = str(BIN / command[0])
        subprocess.run([path, *command[1:]], env=self.env(**(env or {})), check=True)

    def kill(self, name: str) -> None:
        """SIGKILL: nothing is flushed, released or recorded on the way out."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.processes[name].terminate()
        for process in list(self.processes.values()):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.db_url:
            self._admin(f'DROP DATABASE IF EXISTS "{make_url(self.db_url).database}" WITH (FORCE)')

    def _database(self) -> None:
        name = f"parley_topology_{uuid.uuid4().hex[:10]}"
        self._admin(f'CREATE DATABASE "{name}"')
        self.db_url = make_url(self.postgres).set(database=name).render_as_string(False)

    def _admin(self, statement: str) -> None:
        asyncio.run(_execute(self.postgres, statement))

    def _wait(self, ready: Callable[[], bool], timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if ready():
                    return
            except (OSError, httpx.HTTPError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    "the topology did not come up; see the logs in " + str(self.root)
                )
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL URL (admin rights)")
    parser.add_argument("--dir", type=Path, help="where logs and data go (default: a temp dir)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="parley-topology-"))
    root.mkdir(parents=True, exist_ok=True)
    topology = Topology(root, postgres=args.postgres)
    try:
        topology.start()
        print(
            f"Parley at {topology.url} (nodes {topology.ports['api-1']}, "
            f"{topology.ports['api-2']}); admin {ADMIN_EMAIL} / {ADMIN_PASSWORD}; "
            f"logs in {root}",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
