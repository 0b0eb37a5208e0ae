"""Concurrent sessions on the speech core alone: no server, no network, one process.

    .venv/bin/python bench/speech_load.py [--sessions 8 16] [--set window_trim_s=3 ...]

N live transcribers share one model and one `PassScheduler`, as a node's sessions do.
Each is fed the `ws_latency.py` programme (40.7 s) at real-time pace in 100 ms chunks,
starting at random within 1 s, and asks for an interim update as a session does (at most
every `interim_interval_ms`), then finalises. Per N: how long `update()` takes (wait plus
pass: the part of the interim latency the speech core adds), `finalize()` after the last
chunk, passes per session-second, windows per batched decoding call, the mean window
length, the process's CPU use, the WER of the last interim and of the final, and the
inference workers' busy time by kind of work (encoding interim windows, decoding them,
the final's segments) per session-second.
Quicker to iterate on than `ws_load.py`, and it isolates the scheduler from the websocket
stack.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.programme import PROGRAMME, Programme, build_programme
from bench.stats import error_rate, pct, word_errors
from speech.batching import PassScheduler
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber

CHUNK = 1_600  # 100 ms


class WorkClock:
    """Seconds the inference workers spent in each function, by its name (wall time:
    CTranslate2 computes in threads of its own, one call per core)."""

    def __init__(self, model: SpeechModel) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self._lock = threading.Lock()
        run_interim = model.run_interim

        async def timed_run(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            return await run_interim(self._timed(fn), *args, **kwargs)

        model.run_interim = timed_run  # type: ignore[method-assign]

    def _timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        name = getattr(getattr(fn, "func", fn), "__name__", "other")

        def call(*args: Any, **kwargs: Any) -> Any:
            begun = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[name] += time.perf_counter() - begun

        return call

    def take(self) -> dict[str, float]:
        with self._lock:
            taken, self.seconds = dict(self.seconds), defaultdict(float)
        return taken


async def session(
    model: SpeechModel,
    scheduler: PassScheduler,
    pcm: np.ndarray[Any, Any],
    delay_s: float,
    updates_ms: list[float],
    windows_s: list[float],
    finals_ms: list[float],
    heard: list[tuple[str, str]],
) -> None:
    await asyncio.sleep(delay_s)
    transcriber = StreamingTranscriber(model, scheduler=scheduler)
    loop = asyncio.get_running_loop()
    started = loop.time()
    interval_s = model.settings.interim_interval_ms / 1000

    async def feed() -> None:
        for i, start in enumerate(range(0, len(pcm), CHUNK)):
            await asyncio.sleep(max(0.0, started + (i + 1) * 0.1 - loop.time()))
            transcriber.feed(pcm[start : start + CHUNK])

    feeding = asyncio.create_task(feed())
    last = ""
    while not feeding.done():
        begun = loop.time()
        windows_s.append(transcriber.window_s)
        interim = await transcriber.update()
        last = f"{interim.committed} {interim.tentative}"
        updates_ms.append((loop.time() - begun) * 1000)
        await asyncio.sleep(max(0.0, interval_s * transcriber.pace - (loop.time() - begun)))
    await feeding
    begun = loop.time()
    final = await transcriber.finalize()
    finals_ms.append((loop.time() - begun) * 1000)
    heard.append((last, final.text))


async def level(
    model: SpeechModel, clock: WorkClock, programme: Programme, n: int, seed: int
) -> str:
    pcm = np.frombuffer(programme.pcm, np.int16).astype(np.float32) / 32768
    settings = model.settings
    scheduler = PassScheduler(
        model,
        workers=settings.max_concurrent_inference,
        max_batch=settings.interim_max_batch,
        most_stretch=settings.busy_pass_stretch,
    )
    rng = random.Random(seed)
    updates_ms: list[float] = []
    windows_s: list[float] = []
    finals_ms: list[float] = []
    heard: list[tuple[str, str]] = []
    clock.take()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(
        *(
            session(
                model, scheduler, pcm, rng.uniform(0, 1), updates_ms, windows_s, finals_ms, heard
            )
            for _ in range(n)
        )
    )
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    rate = scheduler.windows / n / (len(pcm) / 16_000)
    batch = scheduler.windows / max(1, scheduler.calls)
    audio_s = n * len(pcm) / 16_000
    work = {k: v * 1000 / audio_s for k, v in clock.take().items()}
    interim_wer = error_rate([word_errors(programme.text, live) for live, _ in heard])
    final_wer = error_rate([word_errors(programme.text, text) for _, text in heard])
    split = " ".join(f"{k}={v:.0f}" for k, v in sorted(work.items(), key=lambda kv: -kv[1]))
    return (
        f"{n:>3} {pct(updates_ms, 0.5):>7.0f} {pct(updates_ms, 0.95):>7.0f} "
        f"{pct(finals_ms, 0.5):>6.0f} {pct(finals_ms, 0.95):>6.0f} "
        f"{rate:>8.2f} {batch:>6.1f} "
        f"{statistics.fmean(windows_s):>6.1f} {cpu / wall / 2:>5.2f} "
        f"{interim_wer:>5.3f} {final_wer:>5.3f}  {split}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--set", action="append", default=[], help="speech setting KEY=VALUE")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.set)
    model = SpeechModel.load(SpeechSettings.model_validate(overrides))
    clock = WorkClock(model)
    programme = build_programme(PROGRAMME, 1.0)
    print(f"{programme.duration_s:.1f} s programme; settings {overrides}")
    print("  N  update() ms   final ms    passes/  batch window  cpu   WER   WER  work ms per")
    print("        p50     p95   p50    p95 session-s  size      s      live final session-s")
    for n in args.sessions:
        print(asyncio.run(level(model, clock, programme, n, args.seed)), flush=True)
    model.close()


if __name__ == "__main__":
    main()
