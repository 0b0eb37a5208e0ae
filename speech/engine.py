"""The speech engine of a node: one Whisper model, loaded once, shared by every live session
and rescoring task, and one interim pass scheduler that batches the sessions' live passes."""

from __future__ import annotations

import asyncio
from typing import Any

from speech.batching import PassScheduler
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.ports import Samples, Transcriber
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber
from speech.transcript import FinalTranscript
from speech.warmup import warm_up


class WhisperEngine:
    """Owns the model: `load()` before the first session, `close()` at shutdown."""

    def __init__(self, settings: SpeechSettings) -> None:
        self.settings = settings
        self._model: SpeechModel | None = None
        self._evaluator: LocalEvaluator | None = None
        self._phones: PhoneAligner | None = None
        self._scheduler: PassScheduler | None = None
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    async def load(self, *, warm: bool = True) -> None:
        """`warm`: make a first pass on every replica now (see `speech.warmup`), so the
        first learner's words show as promptly as later ones; batch work need not."""
        async with self._lock:
            if self._model is None:
                model = await asyncio.to_thread(SpeechModel.load, self.settings)
                phones = None
                if self.settings.phones:
                    # A node's finals (warm) get the helper process; batch rescoring,
                    # which no one waits on, keeps to one process.
                    phones = PhoneAligner(
                        max_audio_s=self.settings.phones_max_audio_s, helper_process=warm
                    )
                if warm:
                    await warm_up(model)
                    if phones is not None:
                        await asyncio.to_thread(phones.warm_up)
                self._model, self._phones = model, phones
                self._evaluator = LocalEvaluator(model, phones=phones)
                self._scheduler = PassScheduler(
                    model,
                    workers=self.settings.max_concurrent_inference,
                    max_batch=self.settings.interim_max_batch,
                    most_stretch=self.settings.busy_pass_stretch,
                )

    @property
    def model(self) -> SpeechModel:
        return self._parts()[0]

    def _parts(self) -> tuple[SpeechModel, LocalEvaluator]:
        if self._model is None or self._evaluator is None:
            raise RuntimeError("the speech model is not loaded; await load() first")
        return self._model, self._evaluator

    def transcriber(self) -> Transcriber:
        return StreamingTranscriber(self._parts()[0], scheduler=self._scheduler)

    async def evaluate(
        self,
        audio: Samples,
        transcript: FinalTranscript,
        *,
        reference_text: str | None,
        prompt: str | None,
    ) -> dict[str, Any]:
        """Read aloud against `reference_text` when there is one, else an open response to
        `prompt`; the evaluation as a JSON-ready dict."""
        _, evaluator = self._parts()
        if reference_text:
            result = await evaluator.evaluate_read_aloud(audio, transcript, reference_text)
        else:
            result = await evaluator.evaluate_open_response(audio, transcript, prompt)
        return result.to_dict()

    def close(self) -> None:
        if self._phones is not None:
            self._phones.close()  # the helper process, if any
            self._phones = None
        if self._model is not None:
            self._model.close()
            self._model = self._evaluator = self._scheduler = None
