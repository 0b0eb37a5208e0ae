"""A topology that `up` started and left running, as its state file records it: what
`status` and `down` need once the script that started it has exited."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.processes import running, stop

STATE = "topology.json"


async def execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


def drop_database(postgres: str, db_url: str) -> None:
    name = make_url(db_url).database
    asyncio.run(execute(postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def banner(state: dict[str, Any], root: Path) -> str:
    ports = state["ports"]
    return (
        f"Parley at http://127.0.0.1:{ports['lb']} (nodes {ports['api-1']}, {ports['api-2']});"
        f" admin {state['admin']}; logs in {root}"
    )


def read(root: Path) -> dict[str, Any] | None:
    path = root / STATE
    if not path.exists():
        print(f"no topology is up here (no {path})", file=sys.stderr)
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def status(root: Path) -> int:
    """One line per process; 0 when every one runs and nginx and the nodes are ready."""
    state = read(root)
    if state is None:
        return 1
    healthy = True
    for name, process in state["processes"].items():
        line = f"{name:<9} pid {process['pid']:<8}"
        ready_url = state["ready_urls"].get(name)
        if not running(process["pid"], process["started"]):
            line, healthy = line + " not running", False
        elif ready_url is None:
            line += " running"
        else:
            try:
                code = httpx.get(ready_url, timeout=5).status_code
                line, healthy = line + f" /readyz {code}", healthy and code == 200
            except httpx.HTTPError as exc:
                line, healthy = line + f" /readyz unreachable ({exc!r})", False
        print(line)
    print(banner(state, root))
    return 0 if healthy else 1


def down(root: Path) -> int:
    """Stops the processes stage by stage, drops the scratch database, keeps the logs."""
    state = read(root)
    if state is None:
        return 1
    processes = state["processes"]
    for stage in state["stages"]:
        members = [name for name in stage if name in processes]
        stopped = stop([(processes[n]["pid"], processes[n]["started"]) for n in members])
        for name in members:
            print(f"{name}: {'stopped' if processes[name]['pid'] in stopped else 'not running'}")
    drop_database(state["postgres"], state["db_url"])
    (root / STATE).unlink()
    print(f"database {make_url(state['db_url']).database} dropped; logs kept in {root}")
    return 0
