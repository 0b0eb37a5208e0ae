"""A node's engine scores with the evaluator version asked for, and refuses one it lacks."""

from __future__ import annotations

import pytest

from speech.audio import Samples
from speech.engine import WhisperEngine, evaluator_versions
from speech.errors import UnknownEvaluatorError
from speech.settings import SpeechSettings
from tests.speech.conftest import JFK_TEXT


async def test_each_offered_version_scores_and_an_unknown_one_is_refused(jfk: Samples) -> None:
    engine = WhisperEngine(SpeechSettings(phones=False))
    await engine.load(warm=False)
    try:
        trained, hand = engine.evaluator_versions
        assert (trained, hand) == evaluator_versions(engine.settings.model)
        transcriber = engine.transcriber()
        transcriber.feed(jfk)
        transcript = await transcriber.finalize()
        results = {
            version: await engine.evaluate(
                jfk, transcript, reference_text=JFK_TEXT, prompt=None, evaluator=version
            )
            for version in (None, trained, hand)
        }
        assert results[None]["evaluator"]["version"] == trained  # the default
        assert results[trained]["scores"] == results[None]["scores"]
        assert results[hand]["evaluator"]["version"] == hand
        assert results[hand]["scores"]["prosody"] is None  # the formulas do not score it
        assert results[trained]["scores"]["prosody"] is not None
        with pytest.raises(UnknownEvaluatorError) as refused:
            await engine.evaluate(
                jfk, transcript, reference_text=JFK_TEXT, prompt=None, evaluator="0.9+old"
            )
        assert refused.value.offered == (trained, hand)
        assert "0.9+old" in str(refused.value) and hand in str(refused.value)
    finally:
        engine.close()
