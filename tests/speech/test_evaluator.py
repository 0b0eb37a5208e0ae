from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from speech.audio import Samples, load_wav_16k
from speech.decoding import decode
from speech.evaluation import EVALUATOR_NAME, EVALUATOR_VERSION, PROSODY_ERRORS, Evaluation
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.scorer.linear import TrainedScorer
from speech.transcript import FinalTranscript, Word, join_words
from tests.speech.conftest import JFK_TEXT, NATIVE, ocean_wav


@pytest.fixture(scope="module")
def evaluator(model: SpeechModel) -> LocalEvaluator:
    # As a node runs it: phones on (the default), which the trained scorer reads.
    return LocalEvaluator(model, phones=PhoneAligner())


def transcribe(model: SpeechModel, audio: Samples) -> FinalTranscript:
    words = decode(model, audio).words
    return FinalTranscript(join_words(words), words, model.name, len(audio) // 16)


@pytest.fixture(scope="module")
def jfk_heard(model: SpeechModel, jfk: Samples) -> FinalTranscript:
    return transcribe(model, jfk)


def errors(evaluation: Evaluation) -> list[tuple[str | None, str | None, str]]:
    """The words' errors of what was said (how it was phrased: tests/speech/test_prosody.py)."""
    return [
        (w.expected, w.heard, w.error_type)
        for w in evaluation.words
        if w.error_type not in ("none", *PROSODY_ERRORS)
    ]


async def test_clean_native_reading(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    result = await evaluator.evaluate_read_aloud(jfk, jfk_heard, JFK_TEXT)
    assert errors(result) == []
    assert result.scores.completeness == 100
    assert result.scores.accuracy >= 85 and result.scores.overall >= 80
    assert len(result.words) == len(JFK_TEXT.split())
    assert all(w.start is not None and w.accuracy is not None for w in result.words)
    out = result.to_dict()
    json.dumps(out)
    # Marked with the code's version and the trained scorer's (speech/scorer/scorer.json).
    scorer = TrainedScorer.load().version
    assert out["evaluator"] == {"name": EVALUATOR_NAME, "version": f"{EVALUATOR_VERSION}+{scorer}"}
    assert out["model"] == "whisper-tiny.en"
    assert 100 <= out["fluency"]["speech_rate_wpm"] <= 160


def test_word_missing_from_reading_is_an_omission(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    reference = JFK_TEXT.replace("your country can", "your great country can")
    result = evaluator.read_aloud(jfk, jfk_heard, reference)
    assert errors(result) == [("great", None, "omission")]
    assert result.scores.completeness is not None and result.scores.completeness < 100
    assert any("great" in tip for tip in result.feedback)


def test_substituted_word_is_a_mispronunciation(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    result = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT.replace("fellow", "yellow"))
    assert errors(result) == [("yellow", "fellow", "mispronunciation")]
    yellow = next(w for w in result.words if w.expected == "yellow")
    assert yellow.accuracy is not None and yellow.accuracy < 30
    clean = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT)
    assert result.scores.accuracy < clean.scores.accuracy


def test_extra_word_is_an_insertion(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    result = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT.replace("ask not what", "ask what"))
    assert errors(result) == [(None, "not", "insertion")]
    after = next(w for w in result.words if w.expected == "what")
    assert after.accuracy is not None and after.accuracy >= 80


def test_numbers_and_case_are_normalised(model: SpeechModel, evaluator: LocalEvaluator) -> None:
    audio = load_wav_16k(NATIVE / "goforward.wav")
    heard = transcribe(model, audio)
    for reference in ["go forward ten meters", "GO FORWARD 10 METERS."]:
        result = evaluator.read_aloud(audio, heard, reference)
        assert result.scores.completeness == 100, (heard.text, errors(result))


def test_restarted_phrase_is_a_repetition(evaluator: LocalEvaluator) -> None:
    # tiny.en smooths the LibriVox reader's own "a more a amiable" away, so the
    # transcript is given here.
    spoken = "had he married a more a more amiable woman"
    heard = tuple(Word(" " + w, 0.4 * i, 0.4 * i + 0.3, 0.9) for i, w in enumerate(spoken.split()))
    transcript = FinalTranscript(spoken, heard, "whisper-tiny.en", 4000)
    result = evaluator.read_aloud(
        np.zeros(0, np.float32), transcript, "Had he married a more amiable woman"
    )
    assert [e for e in errors(result) if e[2] != "none"] == [
        (None, "a", "repetition"),
        (None, "more", "repetition"),
    ]
    assert result.scores.completeness == 100


def test_native_reading_outscores_a_weak_learner(
    model: SpeechModel,
    evaluator: LocalEvaluator,
    jfk: Samples,
    jfk_heard: FinalTranscript,
    ocean_scores: dict[str, Any],
) -> None:
    weakest = min(ocean_scores, key=lambda u: (ocean_scores[u]["total"], u))
    audio = load_wav_16k(ocean_wav(weakest))
    weak = evaluator.read_aloud(audio, transcribe(model, audio), ocean_scores[weakest]["text"])
    native = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT)
    assert native.scores.overall > weak.scores.overall + 20
    assert native.scores.accuracy > weak.scores.accuracy


def test_silence_reads_as_nothing_said(evaluator: LocalEvaluator, jfk: Samples) -> None:
    empty = FinalTranscript("", (), "whisper-tiny.en", 1000)
    result = evaluator.read_aloud(jfk[:0], empty, "go forward ten meters")
    assert result.scores.completeness == 0 and result.scores.overall == 0
    assert {w.error_type for w in result.words} == {"omission"}
    assert result.feedback and "hear" in result.feedback[0]


async def test_open_response(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    result = await evaluator.evaluate_open_response(jfk, jfk_heard, prompt="Quote a speech.")
    assert result.kind == "open_response"
    assert result.scores.completeness is None
    assert result.lexical is not None and 0 < result.lexical.type_token_ratio < 1
    assert result.to_dict()["scores"]["completeness"] is None
