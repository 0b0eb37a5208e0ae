"""Plain-process plumbing for deploy/topology.py: ports, readiness waits, and stopping a
process known only by its pid and start time (after `up` has exited, `down` holds no handle
on the processes it started)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 1):
        return True


def wait_for(ready: Callable[[], bool], what: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up within {timeout_s:.0f} s")
        time.sleep(0.2)


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (which may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def started_at(pid: int) -> int:
    """When `pid` started, in clock ticks since boot: with the pid, it names one process
    (a command line does not: nginx and redis-server rewrite theirs)."""
    fields = _stat(pid)
    if fields is None:
        raise ProcessLookupError(pid)
    return int(fields[19])


def running(pid: int, started: int) -> bool:
    """Whether the process `pid` that started at `started` is alive: a pid the system has
    given to another program since must not be signalled."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == started


def stop(processes: list[tuple[int, int]], grace_s: float = 20.0) -> list[int]:
    """SIGTERM to each of `processes` (pid, start time) at once, SIGKILL to those still there
    after `grace_s`; returns the pids that were running."""
    alive = [(pid, started) for pid, started in processes if running(pid, started)]
    for pid, _ in alive:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while left := [(pid, started) for pid, started in alive if running(pid, started)]:
        if time.monotonic() > deadline:
            for pid, _ in left:
                _signal(pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.1)
    return [pid for pid, _ in alive]


def _signal(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended on its own meanwhile
        os.kill(pid, number)
