"""The learning curve: its full-data row is the cross-validated figure, and less data
fits worse where the relation is noisy."""

from __future__ import annotations

import numpy as np

from bench.scorer_fit import pearson
from bench.validity import ALL, Corpus, columns, measure
from bench.validity_limits import learning_curve
from speech.scorer.features import EMBEDDING_PREFIX, HAND, TIMING, WHISPER
from speech.scorer.linear import TARGETS
from speech.scorer.phones import PHONES


def corpus(seed: int = 5) -> Corpus:
    """160 readings by 40 speakers in the three label sets; every target a noisy line in
    two features."""
    rng = np.random.default_rng(seed)
    names = [*HAND, *WHISPER, *TIMING, *PHONES, *(f"{EMBEDDING_PREFIX}{i:03d}" for i in range(4))]
    x = rng.normal(size=(160, len(names)))
    signal = x[:, 0] + 0.5 * x[:, 5]
    y = np.stack([signal + rng.normal(0, 1.0, 160) for _ in TARGETS], axis=1)
    sets = np.array(["stratified", "published-train", "published-test", "published-test"])
    return Corpus(
        ids=[f"{i:09d}" for i in range(160)],
        names=names,
        x=x,
        y=y,
        sets=np.repeat(sets, 40),
        speakers=np.array([f"{i // 4:04d}" for i in range(160)]),
        split=np.where(np.arange(160) < 80, "train", "test"),
        key="test",
        model="test",
    )


def test_the_full_share_is_the_cross_validated_figure() -> None:
    data = corpus()
    rows = learning_curve(data)
    assert len(rows) == 2 + 4  # header, rule, one row per share
    full = rows[-1].split("|")[3:-1]
    pred = measure(data)
    test = data.sets == "published-test"
    expected = [pearson(pred[test, t], data.y[test, t]) for t in range(len(TARGETS))]
    assert [float(cell.split("±")[0]) for cell in full] == [round(r, 2) for r in expected]
    assert len(columns(data, ALL)) == len(data.names)


def test_a_quarter_of_the_speakers_trains_on_a_quarter_of_the_readings() -> None:
    rows = learning_curve(corpus())
    readings = [float(row.split("|")[2]) for row in rows[2:]]
    assert readings == sorted(readings)
    assert readings[0] < 0.4 * readings[-1]
