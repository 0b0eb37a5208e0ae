"""Aligning heard words with reference words (weighted edit distance).

A substitution costs less the more alike the two words are, and never more than an
omission plus an insertion, so a near miss ("bear" heard as "bare", "fellow" as "follow")
pairs up as one mispronounced word instead of a dropped word and an extra one.

The table is computed in a band around its diagonal (scaled to the two lengths), wide
enough that texts up to `_BAND` words are aligned in full: a reading strays from the
text by a few words, not by dozens, and the full table of a two-minute reading is over
a hundred thousand cells. The word comparisons are made for the whole table at once
(rapidfuzz): one by one in Python they were most of a long reading's evaluation time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

Op = Literal["match", "substitute", "omit", "insert"]

_VOWELS = str.maketrans("", "", "aeiouy")
_BAND = 40


@dataclass(frozen=True, slots=True)
class Pair:
    """One step of the alignment: reference index, heard index (None when absent)."""

    op: Op
    ref: int | None
    heard: int | None


def _skeleton(word: str) -> str:
    """Consonant skeleton, a crude sound key: "their"/"there" -> "thr"."""
    squeezed = "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])
    return squeezed[0] + squeezed[1:].translate(_VOWELS) if squeezed else ""


def substitution_costs(reference: list[str], heard: list[str]) -> npt.NDArray[np.float64]:
    """[n, m] cost of pairing each reference word with each heard word: 0 for the same
    word, else 1 - similarity / 2, the similarity being the larger of the spelling's and
    0.9 x the consonant skeleton's (normalised longest-common-subsequence ratios)."""
    if not reference or not heard:
        return np.zeros((len(reference), len(heard)))
    spelled = process.cdist(reference, heard, scorer=fuzz.ratio, dtype=np.float64)
    sounded = process.cdist(
        [_skeleton(w) for w in reference],
        [_skeleton(w) for w in heard],
        scorer=fuzz.ratio,
        dtype=np.float64,
    )
    similarity = np.maximum(spelled, 0.9 * sounded) / 100.0
    costs: npt.NDArray[np.float64] = 1.0 - 0.5 * similarity
    same = np.asarray(reference, dtype=object)[:, None] == np.asarray(heard, dtype=object)[None, :]
    costs[same] = 0.0
    return costs


def align(reference: list[str], heard: list[str]) -> list[Pair]:
    """Minimum-cost alignment; omissions and insertions cost 1."""
    n, m = len(reference), len(heard)
    substitution = substitution_costs(reference, heard).tolist()
    inf = math.inf
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = float(i)
    for j in range(m + 1):
        cost[0][j] = float(j)
    for i in range(1, n + 1):
        centre = i * m / n
        low, high = max(1, math.floor(centre) - _BAND), min(m, math.ceil(centre) + _BAND)
        row, above = cost[i], cost[i - 1]
        for j in range(low, high + 1):
            row[j] = min(
                above[j - 1] + substitution[i - 1][j - 1],
                above[j] + 1.0,
                row[j - 1] + 1.0,
            )
    pairs: list[Pair] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            step = substitution[i - 1][j - 1]
            if abs(cost[i][j] - (cost[i - 1][j - 1] + step)) < 1e-9:
                op: Op = "match" if step == 0.0 else "substitute"
                pairs.append(Pair(op, i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if i > 0 and abs(cost[i][j] - (cost[i - 1][j] + 1.0)) < 1e-9:
            pairs.append(Pair("omit", i - 1, None))
            i -= 1
        else:
            pairs.append(Pair("insert", None, j - 1))
            j -= 1
    pairs.reverse()
    return pairs
