"""The scorer's training recipe: folds keep speakers whole, and the fit finds a line."""

from __future__ import annotations

import numpy as np

from bench.scorer_fit import (
    bootstrap_interval,
    cross_validated,
    fit_selected,
    grouped_folds,
    pearson,
)


def data(seed: int = 1) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """120 readings by 30 speakers in two label sets; the target is linear in feature 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 6))
    y = np.stack([3 * x[:, 0] + 5, -2 * x[:, 0] + 1], axis=1) + rng.normal(0, 0.1, (120, 2))
    names = ["f0", "f1", "f2", "emb_000", "emb_001", "emb_002"]
    speakers = np.array([f"s{i // 4:02d}" for i in range(120)])
    sets = np.where(np.arange(120) < 60, "a", "b")
    return x, y, names, speakers, sets


def test_folds_never_split_a_speaker_and_share_out_each_set() -> None:
    _, _, _, speakers, sets = data()
    folds = grouped_folds(speakers, sets, 5, seed=3)
    for s in set(speakers.tolist()):
        assert len(set(folds[speakers == s].tolist())) == 1
    for name in ("a", "b"):
        assert set(folds[sets == name].tolist()) == set(range(5))
    assert (folds == grouped_folds(speakers, sets, 5, seed=3)).all()  # seeded


def test_the_fit_recovers_a_linear_relation() -> None:
    x, y, names, speakers, sets = data()
    fitted = fit_selected(x, y, names, speakers, sets, seed=0)
    new = np.zeros((1, 6))
    new[0, 0] = 1.0
    assert np.allclose(fitted.predict(new)[0], [8.0, -1.0], atol=0.3)


def test_cross_validated_predictions_are_held_out_and_good_here() -> None:
    x, y, names, speakers, sets = data()
    pred, penalties = cross_validated(x, y, names, speakers, sets)
    assert pred.shape == y.shape and len(penalties) == 10
    assert pearson(pred[:, 0], y[:, 0]) > 0.95
    lo, hi = bootstrap_interval(pred[:, 0], y[:, 0], speakers)
    assert lo <= pearson(pred[:, 0], y[:, 0]) <= hi
