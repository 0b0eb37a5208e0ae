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

Work that may wait (the final transcript's segments, decoded while the learner still
speaks: `speech.segment_batch`) runs only when no pass waits and a worker stays free for
the next one, as many segments of any sessions as wait (up to `max_batch`) in one call;
the learner's `stop` runs what has not started by then as urgent work.

Once the workers are busy much of the time, the scheduler's `stretch` spaces every
session's passes further apart (`speech.pacing`) rather than let them queue.

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

from speech.audio import SAMPLE_RATE
from speech.decoding import Pass
from speech.model import SpeechModel
from speech.pacing import SPARE, stretch_for
from speech.segment_batch import SegmentJob, run_jobs
from speech.window_batch import States, Window, decode_encoded, encode_window


@dataclass(slots=True)
class _Request:
    window: Window
    order: int
    future: asyncio.Future[Pass] = field(repr=False)
    states: States = None


class PassScheduler:
    """Batches interim passes across sessions. Use from one event loop.

    `workers` model calls run at once (at most the model's pool size); `max_batch`
    windows go into one decoding call. `spare_audio_s`: most audio in one call of segment
    jobs (at least one job), so that a spare worker is soon free for passes again.
    `most_stretch`: how far apart sessions' passes may stretch while the workers are busy
    (`stretch`, see `speech.pacing`; 1: never).
    """

    def __init__(
        self,
        model: SpeechModel,
        *,
        workers: int,
        max_batch: int,
        spare_audio_s: float = 8.0,
        most_stretch: float = 1.0,
    ) -> None:
        if workers < 1 or max_batch < 1:
            raise ValueError("workers and max_batch must be at least 1")
        if most_stretch < 1.0:
            raise ValueError("most_stretch must be at least 1")
        self._model = model
        self._workers = workers
        self._max_batch = max_batch
        self._spare_samples = int(spare_audio_s * SAMPLE_RATE)
        self._unencoded: list[_Request] = []
        self._encoded: list[_Request] = []
        self._running: set[asyncio.Task[None]] = set()
        self._decoding = 0
        self._encoding = 0
        self._spare: list[SegmentJob] = []
        self._order = itertools.count()
        self._most_stretch = most_stretch
        self.calls = 0  # batched decoding calls made
        self.windows = 0  # windows decoded by them
        self.spare_calls = 0  # calls of segment jobs made by spare workers
        model.on_calm(self._dispatch)

    @property
    def stretch(self) -> float:
        """How many times its interval apart a session's passes should come now."""
        return stretch_for(self._model.busy.value, self._most_stretch)

    @property
    def has_spare_time(self) -> bool:
        """Whether the workers have time for passes beyond the sessions' steady ones."""
        return self._model.busy.value < SPARE

    @property
    def waiting(self) -> int:
        return len(self._unencoded) + len(self._encoded)

    def offer(self, job: SegmentJob) -> None:
        """Run `job` once a worker is spare: no pass waits, and another worker is free."""
        self._spare = [j for j in self._spare if j.waiting]
        self._spare.append(job)
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
        self._spare = [j for j in self._spare if j.waiting]
        if not self._spare or len(self._running) >= self._workers - self._model.urgent - 1:
            return False
        taken = 1
        audio = len(self._spare[0].audio)
        while taken < min(len(self._spare), self._max_batch):
            audio += len(self._spare[taken].audio)
            if audio > self._spare_samples:
                break
            taken += 1
        jobs, self._spare = self._spare[:taken], self._spare[taken:]
        task = asyncio.get_running_loop().create_task(self._run_spare(jobs))
        self._running.add(task)
        task.add_done_callback(self._spare_done)
        return True

    async def _run_spare(self, jobs: list[SegmentJob]) -> None:
        jobs = [j for j in jobs if j.waiting]  # withdrawn between the take and now
        if jobs:
            self.spare_calls += 1
            await run_jobs(self._model, jobs, urgent=False)

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
