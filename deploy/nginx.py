"""The load balancer of deploy/topology.py: deploy/nginx.conf itself, the file compose.yaml
mounts into its `lb`, pointed at this machine's ports. Nothing of it is rewritten but the
addresses, so the two cannot drift apart."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

COMPOSE_CONF = Path(__file__).resolve().parent / "nginx.conf"
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def upstreams(conf: str) -> list[str]:
    """The `server host:port` lines of the upstream block, as `host:port`."""
    return re.findall(r"^\s*server\s+(\S+:\d+)\b", conf, flags=re.MULTILINE)


def nginx_conf(prefix: Path, listen: int, nodes: dict[str, int]) -> str:
    """deploy/nginx.conf inside the few lines a stand-alone nginx needs: its pid, logs and
    temp files under `prefix`, and one worker (compose's image decides that there)."""
    server = COMPOSE_CONF.read_text()
    named = {f"{name}:8000" for name in nodes}
    if set(upstreams(server)) != named:
        raise ValueError(f"{COMPOSE_CONF} balances {upstreams(server)}, not {sorted(named)}")
    for name, port in nodes.items():
        server = server.replace(f"server {name}:8000", f"server 127.0.0.1:{port}")
    if "listen 8000;" not in server:
        raise ValueError(f"{COMPOSE_CONF} no longer says `listen 8000;`")
    server = server.replace("listen 8000;", f"listen 127.0.0.1:{listen};")
    temp = "\n".join(f"    {kind}_temp_path {prefix}/{kind};" for kind in TEMP_KINDS)
    return (
        f"pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        "worker_processes 1;\nevents { worker_connections 4096; }\n"
        f"http {{\n    access_log {prefix}/access.log;\n{temp}\n{server}\n}}\n"
    )


def command(prefix: Path, conf: Path, *extra: str) -> list[str]:
    """nginx in the foreground (a child to kill, not a daemon to chase) with `prefix`."""
    return [binary(), "-p", str(prefix), "-c", str(conf), "-g", "daemon off;", *extra]
