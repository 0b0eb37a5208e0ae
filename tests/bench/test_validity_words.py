"""The word-score table: one row per label set, r over that set's words only."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.scorer_fit import pearson
from bench.validity_words import report


def test_each_label_set_is_correlated_over_its_own_words() -> None:
    rng = np.random.default_rng(3)
    labels: dict[str, dict[str, str]] = {}
    rows: list[dict[str, Any]] = []
    for n, tag in enumerate(("prerelease-mean-of-5", "published", "published-test")):
        for k in range(12):  # three speakers of four readings per set
            utterance = f"{n * 3 + k // 4:05d}{k:04d}"
            labels[utterance] = {"labels": tag}
            for index in range(5):
                expert = float(rng.integers(0, 11))
                noise = rng.normal(0, 10 * (n + 1))  # the sets agree less and less
                rows.append(
                    {
                        "utterance": utterance,
                        "index": index,
                        "accuracy": 10 * expert + noise,
                        "phones": None if index == 0 else 10 * expert,
                        "expert": expert,
                    }
                )
    table = report(rows, labels)
    assert len(table) == 2 + 3
    tags = ("prerelease-mean-of-5", "published", "published-test")
    for line, tag in zip(table[2:], tags, strict=True):
        mine = [r for r in rows if labels[r["utterance"]]["labels"] == tag]
        r = pearson(np.array([x["accuracy"] for x in mine]), np.array([x["expert"] for x in mine]))
        cells = [c.strip() for c in line.split("|")[1:-1]]
        assert cells[1:3] == ["60", "3"]  # words, speakers
        assert cells[3].startswith(f"{r:.2f} [")
        assert cells[4].startswith("1.00 [") and cells[4].endswith("(48)")  # phones exact
