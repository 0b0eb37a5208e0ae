"""deploy/topology.py runs the topology compose.yaml describes, not a look-alike: the same
nginx file, the same nodes and workers, the same Parley settings."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from deploy import nginx
from deploy.topology import NODES, WORKERS, Topology
from tests.services import require_program

REPO = Path(__file__).resolve().parents[2]
COMPOSE = (REPO / "compose.yaml").read_text()
PORTS = {"lb": 9000, "api-1": 9001, "api-2": 9002, "s3": 9003, "redis": 9004}


def generated(tmp_path: Path) -> str:
    return nginx.nginx_conf(tmp_path, PORTS["lb"], {n: PORTS[n] for n in NODES})


def test_the_load_balancer_is_compose_s_file_with_local_addresses(tmp_path: Path) -> None:
    conf = generated(tmp_path)
    compose_lines = [line.strip() for line in nginx.COMPOSE_CONF.read_text().splitlines()]
    local = [line.strip() for line in conf.splitlines()]
    addressed = {f"server {n}:8000 max_fails=2 fail_timeout=5s;" for n in NODES}
    for line in compose_lines:
        if line in addressed or line == "listen 8000;":
            continue
        assert line in local, f"deploy/nginx.conf's line {line!r} is not in the generated file"
    for name in NODES:
        assert f"server 127.0.0.1:{PORTS[name]} max_fails=2 fail_timeout=5s;" in local
    assert "listen 127.0.0.1:9000;" in local
    assert not any(f"{name}:8000" in conf for name in NODES)


def test_nginx_accepts_the_generated_file(tmp_path: Path) -> None:
    require_program("nginx", "/usr/sbin/nginx")
    conf = tmp_path / "nginx.conf"
    conf.write_text(generated(tmp_path))
    checked = subprocess.run(
        nginx.command(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_nodes_that_compose_s_nginx_does_not_balance_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="balances"):
        nginx.nginx_conf(tmp_path, 9000, {"api-1": 9001, "api-3": 9003})


def test_compose_runs_the_same_nodes_and_workers() -> None:
    services = re.findall(r"^  ([a-z0-9-]+):$", COMPOSE, flags=re.MULTILINE)
    assert [s for s in services if s.startswith("api-")] == list(NODES)
    for name in NODES:
        assert f"PARLEY_SERVER__NODE_ID: {name}" in COMPOSE
    assert nginx.upstreams(nginx.COMPOSE_CONF.read_text()) == [f"{n}:8000" for n in NODES]
    worker = COMPOSE[COMPOSE.index("\n  worker:") :]
    replicas = re.search(r"replicas: (\d+)", worker)
    assert replicas is not None and int(replicas[1]) == len(WORKERS)


def test_the_processes_get_every_setting_compose_gives_parley(tmp_path: Path) -> None:
    shared = COMPOSE[COMPOSE.index("x-parley:") : COMPOSE.index("\nservices:")]
    in_compose = set(re.findall(r"^\s+(PARLEY_[A-Z0-9_]+):", shared, flags=re.MULTILINE))
    assert "PARLEY_BLOBS__BACKEND" in in_compose  # the pattern reads the block
    env = Topology(tmp_path, ports=PORTS, db_url="postgresql+asyncpg://x@127.0.0.1/db").env()
    assert in_compose <= set(env)
    assert env["PARLEY_BLOBS__BACKEND"] == "s3"
    assert env["PARLEY_AUTH__OPEN_REGISTRATION"] == "false"
