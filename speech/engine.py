"""The speech engine of a node: one Whisper model, loaded once, shared by every live session
and rescoring task, and one interim pass scheduler that batches the sessions' live passes.

It scores with the trained scorer (`speech.scorer`) when that was trained on its model, and
also offers the hand-tuned formulas, each under its own evaluator version: a rescoring job
may ask for either by version, and a version the node does not have is refused, never
quietly replaced by another (`UnknownEvaluatorError`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from speech.batching import PassScheduler
from speech.errors import UnknownEvaluatorError
from speech.evaluator import HAND_TUNED_VERSION, LocalEvaluator, evaluator_version
from speech.model import SpeechModel, model_name
from speech.phones import PhoneAligner
from speech.ports import Samples, Transcriber
from speech.scorer.linear import TrainedScorer
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber
from speech.transcript import FinalTranscript
from speech.warmup import warm_up


def evaluator_versions(model: str) -> tuple[str, ...]:
    """The evaluator versions an engine of `model` (a `SpeechSettings.model` value) scores
    with, its default first (`HAND_TUNED_VERSION` last); known without loading the model."""
    scorer = TrainedScorer.load()
    if scorer.model != model_name(model):
        return (HAND_TUNED_VERSION,)
    return (evaluator_version(scorer), HAND_TUNED_VERSION)


class WhisperEngine:
    """Owns the model: `load()` before the first session, `close()` at shutdown."""

    def __init__(self, settings: SpeechSettings) -> None:
        self.settings = settings
        self._model: SpeechModel | None = None
        self._evaluators: dict[str, LocalEvaluator] = {}  # by version, the default first
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
                for evaluator in (
                    LocalEvaluator(model, phones=phones),
                    LocalEvaluator(model, hand_tuned=True, phones=phones),
                ):
                    self._evaluators.setdefault(evaluator.version, evaluator)
                self._scheduler = PassScheduler(
                    model,
                    workers=self.settings.max_concurrent_inference,
                    max_batch=self.settings.interim_max_batch,
                    most_stretch=self.settings.busy_pass_stretch,
                )

    @property
    def model(self) -> SpeechModel:
        return self._parts()[0]

    @property
    def evaluator_versions(self) -> tuple[str, ...]:
        """The versions it scores with, its default first."""
        self._parts()
        return tuple(self._evaluators)

    def _parts(self, evaluator: str | None = None) -> tuple[SpeechModel, LocalEvaluator]:
        if self._model is None or not self._evaluators:
            raise RuntimeError("the speech model is not loaded; await load() first")
        if evaluator is None:
            return self._model, next(iter(self._evaluators.values()))
        found = self._evaluators.get(evaluator)
        if found is None:
            raise UnknownEvaluatorError(evaluator, tuple(self._evaluators))
        return self._model, found

    def transcriber(self) -> Transcriber:
        return StreamingTranscriber(self._parts()[0], scheduler=self._scheduler)

    async def evaluate(
        self,
        audio: Samples,
        transcript: FinalTranscript,
        *,
        reference_text: str | None,
        prompt: str | None,
        evaluator: str | None = None,
    ) -> dict[str, Any]:
        """Read aloud against `reference_text` when there is one, else an open response to
        `prompt`; the evaluation as a JSON-ready dict. `evaluator`: the version to score
        with (None: the default; one it does not offer: `UnknownEvaluatorError`)."""
        _, chosen = self._parts(evaluator)
        if reference_text:
            result = await chosen.evaluate_read_aloud(audio, transcript, reference_text)
        else:
            result = await chosen.evaluate_open_response(audio, transcript, prompt)
        return result.to_dict()

    def close(self) -> None:
        if self._phones is not None:
            self._phones.close()  # the helper process, if any
            self._phones = None
        if self._model is not None:
            self._model.close()
            self._model = self._scheduler = None
            self._evaluators.clear()
