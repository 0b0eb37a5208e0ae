"""compose.yaml's topology on one machine, with real processes and no Docker: nginx (from
deploy/nginx.conf) in front of two `parley serve` nodes, two `parley worker`s, PostgreSQL,
Redis and an S3-compatible store (moto's server standing in for MinIO).

    .venv/bin/python -m deploy.topology up [--dir DIR] [--postgres URL]
    .venv/bin/python -m deploy.topology status [--dir DIR]
    .venv/bin/python -m deploy.topology down [--dir DIR]
    .venv/bin/python -m deploy.topology run    # in the foreground until Ctrl-C

PostgreSQL is the one already running (a scratch database is created, and dropped by
`down`); Redis, the S3 store, the nodes, the workers and nginx are this script's own
processes, so a test can kill and restart each of them (tests/deploy/test_topology.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url

from deploy import nginx, recorded
from deploy.processes import accepts, free_port, started_at, wait_for
from deploy.recorded import drop_database, execute

BIN = Path(sys.executable).parent
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEFAULT_DIR = Path(tempfile.gettempdir()) / "parley-topology"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.org", "topology admin password"
NODES, WORKERS = ("api-1", "api-2"), ("worker-1", "worker-2")
# Stopped in this order: nothing new in, then Parley (which flushes to Redis), then stores.
STAGES = (("lb",), (*WORKERS, *NODES), ("redis", "s3"))


@dataclass
class Topology:
    root: Path
    postgres: str = POSTGRES
    detach: bool = False  # `up`: the processes outlive this script and its terminal
    ports: dict[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    commands: dict[str, list[str]] = field(default_factory=dict)
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
        """compose.yaml's x-parley environment, pointed at this machine's processes."""
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
            "PARLEY_AUTH__OPEN_REGISTRATION": "false",
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
        s3 = f"http://127.0.0.1:{self.ports['s3']}/"
        wait_for(lambda: httpx.get(s3).status_code < 500, "the S3 store")
        self.run("parley", "db", "upgrade")
        create = ("parley", "users", "create", "--role", "admin", "--email", ADMIN_EMAIL)
        self.run(*create, env={"PARLEY_PASSWORD": ADMIN_PASSWORD})
        for name in NODES:
            self.start_node(name)
        for name in WORKERS:
            self.spawn(name, [str(BIN / "parley"), "worker", "--name", name], self.env())
        prefix = self.root / "nginx"
        prefix.mkdir(exist_ok=True)
        conf = prefix / "nginx.conf"
        conf.write_text(nginx.nginx_conf(prefix, self.ports["lb"], self._nodes()))
        self.spawn("lb", nginx.command(prefix, conf))
        wait_for(lambda: httpx.get(f"{self.url}/readyz").status_code == 200, "nginx")

    def start_node(self, name: str) -> None:
        env = self.env(PARLEY_SERVER__NODE_ID=name, PARLEY_SERVER__DATA_DIR=str(self.root / name))
        port = str(self.ports[name])
        self.spawn(name, [str(BIN / "parley"), "serve", "--host", "127.0.0.1", "--port", port], env)
        url = f"{self.node_url(name)}/readyz"
        wait_for(lambda: httpx.get(url).status_code == 200, name)

    def start_redis(self) -> None:
        port = self.ports["redis"]
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        self.spawn("redis", [*command, "--appendonly", "no"])
        wait_for(lambda: accepts(port), "redis-server")

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        self.commands[name] = command
        with (self.root / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=self.detach,
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
        for stage in STAGES:
            started = [self.processes.pop(n) for n in stage if n in self.processes]
            for process in started:
                process.terminate()
            for process in started:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.db_url:
            drop_database(self.postgres, self.db_url)

    def state(self) -> dict[str, Any]:
        """What `status` and `down` need once this script has exited (deploy/recorded.py)."""
        processes = {
            name: {"pid": p.pid, "started": started_at(p.pid), "command": self.commands[name]}
            for name, p in self.processes.items()
        }
        return {
            "postgres": self.postgres,
            "db_url": self.db_url,
            "ports": self.ports,
            "processes": processes,
            "stages": STAGES,
            "ready_urls": {name: f"{self.node_url(name)}/readyz" for name in ("lb", *NODES)},
            "admin": f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}",
        }

    def _nodes(self) -> dict[str, int]:
        return {name: self.ports[name] for name in NODES}

    def _database(self) -> None:
        name = f"parley_topology_{uuid.uuid4().hex[:10]}"
        asyncio.run(execute(self.postgres, f'CREATE DATABASE "{name}"'))
        self.db_url = make_url(self.postgres).set(database=name).render_as_string(False)


def _started(topology: Topology) -> bool:
    try:
        topology.start()
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"the topology did not start: {exc}; logs in {topology.root}", file=sys.stderr)
        topology.stop()
        return False
    except BaseException:  # Ctrl-C while starting: leave nothing behind
        topology.stop()
        raise
    return True


def up(root: Path, postgres: str) -> int:
    state_file = root / recorded.STATE
    if state_file.exists():
        print(f"a topology is recorded in {state_file}; `down` first", file=sys.stderr)
        return 1
    root.mkdir(parents=True, exist_ok=True)
    topology = Topology(root, postgres=postgres, detach=True)
    if not _started(topology):
        return 1
    state_file.write_text(json.dumps(topology.state(), indent=2))
    print(recorded.banner(topology.state(), root))
    return 0


def foreground(root: Path, postgres: str) -> int:
    topology = Topology(root, postgres=postgres)
    if not _started(topology):
        return 1
    print(recorded.banner(topology.state(), root), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        topology.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="run", choices=("up", "status", "down", "run")
    )
    parser.add_argument("--postgres", default=POSTGRES, help="a PostgreSQL URL (admin rights)")
    parser.add_argument("--dir", type=Path, help=f"logs, data and state (default {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    root: Path = args.dir or DEFAULT_DIR
    if args.command == "up":
        return up(root, args.postgres)
    if args.command == "status":
        return recorded.status(root)
    if args.command == "down":
        return recorded.down(root)
    # In the foreground nothing outlives the script, so each run gets a directory of its own.
    root = args.dir or Path(tempfile.mkdtemp(prefix="parley-topology-"))
    root.mkdir(parents=True, exist_ok=True)
    return foreground(root, args.postgres)


if __name__ == "__main__":
    sys.exit(main())
