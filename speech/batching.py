"""One scheduler per node for the interim passes of every live session.

A pass is two kinds of work: encoding its window, which batching does not make cheaper,
and decoding it (`generate` and `align`), which batching makes much cheaper (see
`speech.window_batch`). So a window is encoded as soon as a worker is free, one window per
call, and the encoded windows wait for a decoding batch: one batch at a time takes every
window encoded meanwhile (up to `max_batch`), oldest first. Under light load a window is
encoded and decoded at once and alone; under heavy load one worker mostly encodes while
the other decodes ever larger batches, and every session's pass interval stretches by the
same amount instead of queues growing. Handing each free worker whatever windows were
waiting, as this scheduler first did, kept batches at one or two windows under load:
the workers free up at staggered moments.

Work that may wait (`Spare`: the final transcript's segments, decoded while the learner
still speaks) runs only when no pass waits and a worker stays free for the next one; the
learner's `stop` turns it into urgent work if it has not started by then.

A session asks for one pass at a time (`StreamingTranscriber.update()` serialises), so at
most one window per session waits here. Sessions with nothing new never get here: the
transcriber skips a pass when no audio arrived since the last one or the unsettled audio
holds no voiced frame.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from speech.decoding import Pass
from speech.model import SpeechModel
from speech.window_batch import States, Window, decode_encoded, encode_window

T = TypeVar("T")


class Spare(Generic[T]):
    """Blocking inference `fn(*args)` for a spare worker (see `PassScheduler.offer`).

    Use from one event loop. `result()` is the outcome, running the work at once, as
    urgent work, if it has not started yet.
    """

    def __init__(self, model: SpeechModel, fn: Callable[..., T], *args: Any) -> None:
        self._model = model
        self._call = (fn, args)
        self._future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.started = False
        self.withdrawn = False

    def failed(self) -> bool:
        return self._future.done() and self._future.exception() is not None

    def outcome(self) -> T:
        """The result of work that is done (raises its exception)."""
        return self._future.result()

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        self._future.add_done_callback(lambda _: callback())

    def withdraw(self) -> None:
        """Not wanted any more: it will not start (what has started runs to its end)."""
        self.withdrawn = True

    async def result(self) -> T:
        if not self.started:
            self.started = True
            fn, args = self._call
            await self._settle(self._model.run(fn, *args))
        return await asyncio.shield(self._future)

    async def run_spare(self) -> None:
        if self.withdrawn:
            return  # between the offer and now; `result()` still runs it if asked
        self.started = True
        fn, args = self._call
        await self._settle(self._model.run_interim(fn, *args))

    async def _settle(self, work: Awaitable[T]) -> None:
        try:
            value = await work
        except Exception as exc:
            if not self._future.done():
                self._future.set_exception(exc)
                self._future.exception()  # retrieved here: a withdrawn job's failure is no news
        else:
            if not self._future.done():
                self._future.set_result(value)


@dataclass(slots=True)
class _Request:
    window: Window
    order: int
    future: asyncio.Future[Pass] = field(repr=False)
    states: States = None


class PassScheduler:
    """Batches interim passes across sessions. Use from one event loop.

    `workers` model calls run at once (at most the model's pool size); `max_batch`
    windows go into one decoding call.
    """

    def __init__(self, model: SpeechModel, *, workers: int, max_batch: int) -> None:
        if workers < 1 or max_batch < 1:
            raise ValueError("workers and max_batch must be at least 1")
        self._model = model
        self._workers = workers
        self._max_batch = max_batch
        self._unencoded: list[_Request] = []
        self._encoded: list[_Request] = []
        self._running: set[asyncio.Task[None]] = set()
        self._decoding = 0
        self._encoding = 0
        self._spare: list[Spare[Any]] = []
        self._order = itertools.count()
        self.calls = 0  # batched decoding calls made
        self.windows = 0  # windows decoded by them
        self.spare_calls = 0  # `Spare` work run by spare workers
        model.on_calm(self._dispatch)

    @property
    def waiting(self) -> int:
        return len(self._unencoded) + len(self._encoded)

    def offer(self, work: Spare[Any]) -> None:
        """Run `work` once a worker is spare: no pass waits, and another worker is free."""
        self._spare = [w for w in self._spare if not (w.started or w.withdrawn)]
        self._spare.append(work)
        self._dispatch()

    async def decode(self, window: Window) -> Pass:
        """The pass over `window`, decoded in some batch."""
        future: asyncio.Future[Pass] = asyncio.get_running_loop().create_future()
        self._unencoded.append(_Request(window, next(self._order), future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        # Each urgent call (a final, an evaluation) in flight keeps one worker for itself;
        # interim passes wait, and resume when the model is calm again.
        while len(self._running) < self._workers - self._model.urgent:
            # A caller that gave up (its session ended) needs no pass.
            self._unencoded = [r for r in self._unencoded if not r.future.done()]
            self._encoded = [r for r in self._encoded if not r.future.done()]
            # Decode once nothing waits for encoding, or while another worker encodes
            # and no batch is decoding; otherwise encode first, so batches grow.
            if self._encoded and (
                not self._unencoded or (not self._decoding and self._encoding > 0)
            ):
                self._encoded.sort(key=lambda r: r.order)
                batch = self._encoded[: self._max_batch]
                self._encoded = self._encoded[self._max_batch :]
                self._start(self._decode, batch)
            elif self._unencoded:
                self._start(self._encode, [self._unencoded.pop(0)])
            elif not self._take_spare():
                return

    def _take_spare(self) -> bool:
        self._spare = [w for w in self._spare if not (w.started or w.withdrawn)]
        if not self._spare or len(self._running) >= self._workers - self._model.urgent - 1:
            return False
        work = self._spare.pop(0)
        task = asyncio.get_running_loop().create_task(self._run_spare(work))
        self._running.add(task)
        task.add_done_callback(self._spare_done)
        return True

    async def _run_spare(self, work: Spare[Any]) -> None:
        await work.run_spare()
        self.spare_calls += work.started

    def _spare_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._dispatch()

    def _start(
        self, job: Callable[[list[_Request]], Awaitable[None]], batch: list[_Request]
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(job, batch))
        self._running.add(task)

    async def _guard(
        self, job: Callable[[list[_Request]], Awaitable[None]], batch: list[_Request]
    ) -> None:
        try:
            await job(batch)
        except Exception as exc:  # every waiting session hears of the failure
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(exc)
        finally:
            task = asyncio.current_task()
            if task is not None:
                self._running.discard(task)
            self._dispatch()

    async def _encode(self, batch: list[_Request]) -> None:
        (request,) = batch
        self._encoding += 1
        try:
            request.states = await self._model.run_interim(
                encode_window, self._model, request.window
            )
        finally:
            self._encoding -= 1
        self._encoded.append(request)

    async def _decode(self, batch: list[_Request]) -> None:
        self._decoding += 1
        try:
            self.calls += 1
            self.windows += len(batch)
            passes = await self._model.run_interim(
                decode_encoded,
                self._model,
                [r.window for r in batch],
                [r.states for r in batch],
            )
        finally:
            self._decoding -= 1
        for request, result in zip(batch, passes, strict=True):
            if not request.future.done():
                request.future.set_result(result)
