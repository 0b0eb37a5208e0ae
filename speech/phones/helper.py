"""A second process for the free phone loop, so that a final's two pocketsphinx passes run
side by side when the node has a core to spare.

Pocketsphinx holds the GIL while it decodes, so a thread would not run beside the forced
pass; a process does. The helper takes one pass at a time and only when it is idle: on a
busy node a final does both passes itself, as it would without the helper, instead of
queueing behind another session's. The results are the same either way (each pass runs on a
new decoder set to the reading's own mean), so this changes when a final arrives, not what
it says.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor

from speech.phones.sphinx import DecoderOptions, Segment, free_loop

log = logging.getLogger(__name__)

FreeResult = tuple[tuple[Segment, ...], int]


class FreeLoopHelper:
    """Thread-safe. Started by `start`, else on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._busy = False
        self._failed = False
        self.passes = 0  # free loops handed to the helper

    def start(self) -> None:
        """Make the pool now. Its process is spawned, and loads pocketsphinx, with the
        first pass handed to it: `PhoneAligner.warm_up`'s own reading."""
        with self._lock:
            self._ensure()

    def free_loop(self, options: DecoderOptions, pcm: bytes, mean: str) -> _Pending | None:
        """The free loop of `pcm` under way in the helper, or None when the helper is busy
        or unavailable (then the caller runs it)."""
        with self._lock:
            if self._busy or self._failed:
                return None
            pool = self._ensure()
            if pool is None:
                return None
            try:
                future = pool.submit(free_loop, options, pcm, mean)
            except Exception:  # a broken pool: work on without it
                log.warning("phone helper process unavailable", exc_info=True)
                self._failed = True
                return None
            self._busy = True
            self.passes += 1
        future.add_done_callback(self._idle)
        return _Pending(future, options, pcm, mean)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def _ensure(self) -> ProcessPoolExecutor | None:
        if self._pool is None and not self._failed:
            try:
                # Spawned, not forked: the node has threads (the server's, CTranslate2's),
                # and a forked child would inherit their locks mid-use.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
            except Exception:
                log.warning("phone helper process could not start", exc_info=True)
                self._failed = True
        return self._pool

    def _idle(self, _: Future[FreeResult]) -> None:
        with self._lock:
            self._busy = False


class _Pending:
    def __init__(
        self, future: Future[FreeResult], options: DecoderOptions, pcm: bytes, mean: str
    ) -> None:
        self._future, self._options, self._pcm, self._mean = future, options, pcm, mean

    def result(self) -> FreeResult:
        """The helper's answer; if the helper failed, the pass run here instead."""
        try:
            return self._future.result()
        except Exception:
            log.warning("phone helper process failed; decoding here", exc_info=True)
            return free_loop(self._options, self._pcm, self._mean)
