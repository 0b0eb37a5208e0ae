"""A benchmark learner: streams at real-time pace and time-stamps everything it sends and
gets; and a CPU meter for the server under test."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.programme import CHUNK_BYTES, CHUNK_S, RATE
from bench.server import Server, cpu_seconds, machine_busy_seconds


@dataclass
class Record:
    """Everything one streamed session sent and received, on one `perf_counter` clock."""

    sent: list[float] = field(default_factory=list)  # when chunk k went out
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    stop_at: float = 0.0
    final_at: float = 0.0
    final: dict[str, Any] | None = None
    error: str | None = None

    @property
    def stop_to_final(self) -> float | None:
        return self.final_at - self.stop_at if self.final is not None else None


async def stream_session(
    server: Server,
    token: str,
    exercise_id: str,
    pcm: bytes,
    *,
    delay_s: float = 0.0,
    final_timeout_s: float = 120.0,
) -> Record:
    """Stream `pcm` in 100 ms frames at real-time pace, then `stop` and await `final`."""
    record = Record()
    await asyncio.sleep(delay_s)
    url = f"{server.ws_url}/v1/ws/practice?access_token={token}"
    try:
        async with connect(url, max_size=2**22, open_timeout=30) as ws:
            got_final = asyncio.Event()

            async def read() -> None:
                try:
                    async for raw in ws:
                        now = time.perf_counter()
                        message = json.loads(raw)
                        record.received.append((now, message))
                        if message["type"] == "final":
                            record.final, record.final_at = message, now
                            got_final.set()
                        elif message["type"] == "error" and message.get("fatal"):
                            record.error = f"{message['code']}: {message['message']}"
                except ConnectionClosed:
                    pass
                finally:
                    got_final.set()

            reader = asyncio.create_task(read())
            start = {"type": "start", "exercise_id": exercise_id, "audio": {"sample_rate": RATE}}
            await ws.send(json.dumps(start))
            t0 = time.perf_counter()
            for k, offset in enumerate(range(0, len(pcm), CHUNK_BYTES)):
                pause = t0 + k * CHUNK_S - time.perf_counter()
                if pause > 0:
                    await asyncio.sleep(pause)
                await ws.send(pcm[offset : offset + CHUNK_BYTES])
                record.sent.append(time.perf_counter())
            record.stop_at = time.perf_counter()
            await ws.send(json.dumps({"type": "stop"}))
            try:
                async with asyncio.timeout(final_timeout_s):
                    await got_final.wait()
            except TimeoutError:
                record.error = f"no final within {final_timeout_s} s"
            await ws.close()
            async with asyncio.timeout(10):
                await reader
    except (OSError, ConnectionClosed, TimeoutError) as exc:
        record.error = record.error or f"{type(exc).__name__}: {exc}"
    if record.final is None and record.error is None:
        record.error = "closed without a final"
    return record


class CpuMeter:
    """Server CPU use, and the rest of the machine's (to spot a disturbed measurement),
    as shares of all cores between construction and `read()`."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.cores = os.cpu_count() or 1
        self._wall = time.perf_counter()
        self._server = cpu_seconds(pid) if pid else 0.0
        self._machine = machine_busy_seconds()

    def read(self) -> dict[str, float]:
        wall = (time.perf_counter() - self._wall) * self.cores
        machine = (machine_busy_seconds() - self._machine) / wall
        if not self.pid:
            return {"machine_util": round(machine, 3)}
        server = (cpu_seconds(self.pid) - self._server) / wall
        return {"server_util": round(server, 3), "other_util": round(machine - server, 3)}
