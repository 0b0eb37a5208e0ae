"""One scheduler per node for the interim passes of every live session.

A session asks for one pass at a time (`StreamingTranscriber.update()` serialises), so at
most one window per session waits here. While the inference workers are busy, windows
pile up; when a worker frees, it takes the oldest waiting window together with the other
waiting windows (any lengths, up to `max_batch`) and runs them as one batched call
(`speech.window_batch.decode_windows`). Under light load a
window runs at once and alone; under heavy load batches grow and every session's pass
interval stretches by the same amount instead of queues growing: pacing adapts to load
without a clock. Oldest first means no session is starved, whatever its window.

Sessions with nothing new never get here: the transcriber skips a pass when no audio
arrived since the last one or the unsettled audio holds no voiced frame.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

from speech.decoding import Pass
from speech.model import SpeechModel
from speech.window_batch import Window, decode_windows


@dataclass(slots=True)
class _Request:
    window: Window
    order: int
    future: asyncio.Future[Pass] = field(repr=False)


class PassScheduler:
    """Batches interim passes across sessions. Use from one event loop.

    `workers` batched calls run at once (at most the model's pool size); `max_batch`
    windows go into one call.
    """

    def __init__(self, model: SpeechModel, *, workers: int, max_batch: int) -> None:
        if workers < 1 or max_batch < 1:
            raise ValueError("workers and max_batch must be at least 1")
        self._model = model
        self._workers = workers
        self._max_batch = max_batch
        self._waiting: list[_Request] = []
        self._running: set[asyncio.Task[None]] = set()
        self._order = itertools.count()
        self.calls = 0  # batched model calls made
        self.windows = 0  # windows decoded by them
        model.on_calm(self._dispatch)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def decode(self, window: Window) -> Pass:
        """The pass over `window`, run in some batch."""
        future: asyncio.Future[Pass] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Request(window, next(self._order), future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        # Each urgent call (a final, an evaluation) in flight keeps one worker for itself;
        # interim passes wait, and resume when the model is calm again.
        while len(self._running) < self._workers - self._model.urgent:
            # A caller that gave up (its session ended) needs no pass.
            self._waiting = [r for r in self._waiting if not r.future.done()]
            if not self._waiting:
                return
            # Arrival order: appended in order, so the oldest go first.
            batch, self._waiting = (
                self._waiting[: self._max_batch],
                self._waiting[self._max_batch :],
            )
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)

    async def _run(self, batch: list[_Request]) -> None:
        try:
            self.calls += 1
            self.windows += len(batch)
            windows = [r.window for r in batch]
            passes = await self._model.run_interim(decode_windows, self._model, windows)
            for request, result in zip(batch, passes, strict=True):
                if not request.future.done():
                    request.future.set_result(result)
        except Exception as exc:  # every waiting session hears of the failure
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._running.discard(task)
            self._dispatch()
