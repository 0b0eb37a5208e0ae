"""`parley worker` child processes for the Redis tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.realtime.server import BIN, server_env


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def worker_env(data_dir: Path, db_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    return server_env(
        data_dir,
        db_url,
        PARLEY_REDIS__URL=redis_url,
        PARLEY_REDIS__KEY_PREFIX=prefix,
        # Short, so a killed worker's task is reclaimed within the test's patience.
        PARLEY_WORKERS__RECLAIM_IDLE_S="2",
        PARLEY_WORKERS__BLOCK_S="0.5",
        PARLEY_WORKERS__SHUTDOWN_GRACE_S="20",
        PARLEY_SERVER__LOG_LEVEL="info",
    )


def wait_ready(worker: WorkerProcess, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while "ready" not in worker.output():
        if worker.process.poll() is not None:
            raise RuntimeError(f"worker {worker.name} exited:\n{worker.output()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"worker {worker.name} not ready:\n{worker.output()[-3000:]}")
        time.sleep(0.05)  # a child process with no readiness signal but its log


@contextmanager
def running_workers(
    env: dict[str, str], data_dir: Path, *names: str
) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    try:
        for name in names:
            log = data_dir / f"worker-{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [str(BIN / "parley"), "worker", "--name", name],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append(WorkerProcess(name, process, log))
        for worker in started:
            wait_ready(worker)
        yield started
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in started:
            try:
                worker.process.wait(30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
