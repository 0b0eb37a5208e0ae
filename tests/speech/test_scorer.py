"""The trained scorer: its committed artefact, its arithmetic, and its mark on evaluations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from speech.audio import Samples
from speech.decoding import decode
from speech.evaluation import EVALUATOR_VERSION
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.scorer.features import (
    FEATURES_VERSION,
    HAND,
    TIMING,
    WHISPER,
    embedding_names,
)
from speech.scorer.linear import TARGETS, Head, ScorerError, TrainedScorer
from speech.scorer.phones import PHONES
from speech.transcript import FinalTranscript, join_words
from tests.speech.conftest import JFK_TEXT


def tiny_scorer(**changes: Any) -> dict[str, Any]:
    """An artefact over two features, every number chosen to check by hand."""
    head = {"intercept": 5.0, "weights": [1.0, -0.5], "scale": 10.0, "offset": 0.0}
    data: dict[str, Any] = {
        "version": "test-1",
        "features_version": FEATURES_VERSION,
        "model": "whisper-tiny.en",
        "features": ["a", "b"],
        "mean": [1.0, 10.0],
        "std": [2.0, 4.0],
        "heads": {t: dict(head) for t in TARGETS},
    }
    return data | changes


def test_the_committed_artefact_loads_and_describes_itself() -> None:
    scorer = TrainedScorer.load()
    assert scorer.version.startswith(f"ridge{FEATURES_VERSION}-")
    assert scorer.model == "whisper-tiny.en"
    assert set(scorer.heads) == set(TARGETS)
    assert set(HAND + WHISPER + TIMING + PHONES + embedding_names(384)) == set(scorer.features)
    held_out = scorer.training["cross_validated_pearson"]["published-test"]
    assert set(held_out) == set(TARGETS)  # the figures travel with the weights
    assert sum(scorer.training["utterances"].values()) == 507


def test_prediction_arithmetic() -> None:
    scorer = TrainedScorer.from_dict(tiny_scorer())
    # z = ((3 - 1) / 2, (6 - 10) / 4) = (1, -1); raw = 5 + 1 * 1 - 0.5 * -1 = 6.5 -> 65
    assert scorer.predict({"a": 3.0, "b": 6.0, "unused": 9.0}) == {t: 65.0 for t in TARGETS}


def test_far_out_features_are_held_at_the_training_edge_and_scores_at_0_100() -> None:
    scorer = TrainedScorer.from_dict(tiny_scorer())
    # a's z of 1000 counts as 5: raw = 5 + 5 = 10 -> 100, whatever a is beyond.
    assert scorer.predict({"a": 2001.0, "b": 10.0})["total"] == 100.0
    assert scorer.predict({"a": 1e9, "b": 10.0})["total"] == 100.0
    low = Head(intercept=-3.0, weights=np.array([1.0]), scale=10.0, offset=0.0)
    assert low.score(np.array([0.0])) == 0.0  # clamped, not negative


def test_calibration_is_applied_after_the_regression() -> None:
    head = {"intercept": 5.0, "weights": [1.0, 0.0], "scale": 12.5, "offset": -18.0}
    scorer = TrainedScorer.from_dict(tiny_scorer(heads={t: head for t in TARGETS}))
    assert math.isclose(scorer.predict({"a": 1.0, "b": 0.0})["accuracy"], -18.0 + 12.5 * 5.0)


def test_round_trip_keeps_every_number() -> None:
    scorer = TrainedScorer.from_dict(tiny_scorer())
    again = TrainedScorer.from_dict(scorer.to_dict())
    features = {"a": 0.3, "b": 17.0}
    assert again.predict(features) == scorer.predict(features)
    assert again.version == "test-1"


@pytest.mark.parametrize(
    "changes",
    [
        {"features_version": FEATURES_VERSION + 1},  # trained on other features
        {"std": [2.0, 0.0]},
        {"mean": [1.0]},
        {"heads": {"accuracy": tiny_scorer()["heads"]["accuracy"]}},
        {"features": None},
    ],
)
def test_an_unusable_artefact_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ScorerError):
        TrainedScorer.from_dict(tiny_scorer(**changes))


def test_a_missing_feature_is_an_error_not_a_zero() -> None:
    with pytest.raises(ScorerError, match="missing"):
        TrainedScorer.from_dict(tiny_scorer()).predict({"a": 1.0})


def test_a_feature_not_measured_counts_as_the_training_mean() -> None:
    scorer = TrainedScorer.from_dict(tiny_scorer())
    # b unmeasured: z = (1, 0), raw = 5 + 1 = 6 -> 60, as if b were its mean of 10.
    assert scorer.predict({"a": 3.0, "b": math.nan}) == scorer.predict({"a": 3.0, "b": 10.0})
    assert scorer.predict({"a": 3.0, "b": math.nan})["total"] == 60.0


@pytest.fixture(scope="module")
def heard(model: SpeechModel, jfk: Samples) -> FinalTranscript:
    words = decode(model, jfk).words
    return FinalTranscript(join_words(words), words, model.name, len(jfk) // 16)


def test_every_evaluation_carries_the_scorer_version(
    model: SpeechModel, jfk: Samples, heard: FinalTranscript
) -> None:
    evaluator = LocalEvaluator(model)
    version = f"{EVALUATOR_VERSION}+{TrainedScorer.load().version}"
    assert evaluator.version == version
    read = evaluator.read_aloud(jfk, heard, JFK_TEXT).to_dict()
    assert read["evaluator"]["version"] == version
    assert evaluator.open_response(heard).to_dict()["evaluator"]["version"] == version


def test_the_evaluator_computes_every_feature_the_artefact_reads(
    model: SpeechModel, jfk: Samples, heard: FinalTranscript
) -> None:
    evaluator = LocalEvaluator(model, phones=PhoneAligner())
    features = evaluator.read_aloud_features(jfk, heard, JFK_TEXT)
    scorer = TrainedScorer.load()
    assert set(scorer.features) <= set(features)
    assert all(math.isfinite(v) for v in features.values())
    assert features["phone_word_share"] == 1.0  # every word of JFK's reading has phones
    assert 0 < features["phone_gop_wrong_share"] <= features["phone_gop_doubtful_share"] < 1
    assert features["phone_word_min_gop_mean"] < features["phone_gop_mean"] < 0
    # A clean native reading is scored high by the trained scorer too.
    assert all(score >= 70 for score in scorer.predict(features).values())


def test_without_phones_the_phone_features_weigh_nothing(
    model: SpeechModel, jfk: Samples, heard: FinalTranscript
) -> None:
    features = LocalEvaluator(model).read_aloud_features(jfk, heard, JFK_TEXT)
    assert all(math.isnan(features[name]) for name in PHONES)
    scorer = TrainedScorer.load()
    at_mean = features | {n: float(scorer.mean[scorer.features.index(n)]) for n in PHONES}
    assert scorer.predict(features) == scorer.predict(at_mean)
    assert all(score >= 70 for score in scorer.predict(features).values())


def test_hand_tuned_scores_and_another_model_are_marked_as_such(
    model: SpeechModel, jfk: Samples, heard: FinalTranscript
) -> None:
    assert LocalEvaluator(model, hand_tuned=True).version == f"{EVALUATOR_VERSION}+hand"
    other = TrainedScorer.from_dict(tiny_scorer(model="whisper-small.en"))
    evaluator = LocalEvaluator(model, other)  # its weights read another model's evidence
    assert evaluator.read_aloud(jfk, heard, JFK_TEXT).evaluator_version.endswith("+hand")


def test_prosody_is_scored_for_a_reading_by_the_trained_scorer_only(
    model: SpeechModel, jfk: Samples, heard: FinalTranscript
) -> None:
    evaluator = LocalEvaluator(model)
    read = evaluator.read_aloud(jfk, heard, JFK_TEXT).to_dict()["scores"]
    assert isinstance(read["prosody"], int) and 70 <= read["prosody"] <= 100, read
    assert evaluator.open_response(heard).scores.prosody is None  # no reference, no scorer
    hand = LocalEvaluator(model, hand_tuned=True).read_aloud(jfk, heard, JFK_TEXT)
    assert hand.to_dict()["scores"]["prosody"] is None
    silence = np.zeros(16000, dtype=np.float32)
    nothing = evaluator.read_aloud(silence, FinalTranscript("", (), model.name, 1000), JFK_TEXT)
    assert nothing.scores.prosody == nothing.scores.overall == 0  # nothing heard, nothing read
