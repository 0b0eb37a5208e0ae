"""Aligning heard words with reference words (weighted edit distance).

A substitution costs less the more alike the two words are, and never more than an
omission plus an insertion, so a near miss ("bear" heard as "bare", "fellow" as "follow")
pairs up as one mispronounced word instead of a dropped word and an extra one.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["match", "substitute", "omit", "insert"]

_VOWELS = str.maketrans("", "", "aeiouy")


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


def similarity(a: str, b: str) -> float:
    """0 (unrelated) to 1 (same word)."""
    if a == b:
        return 1.0
    spelled = SequenceMatcher(None, a, b, autojunk=False).ratio()
    sounded = SequenceMatcher(None, _skeleton(a), _skeleton(b), autojunk=False).ratio()
    return max(spelled, 0.9 * sounded)


def substitution_cost(a: str, b: str) -> float:
    return 0.0 if a == b else 1.0 - 0.5 * similarity(a, b)


def align(reference: list[str], heard: list[str]) -> list[Pair]:
    """Minimum-cost alignment; omissions and insertions cost 1."""
    n, m = len(reference), len(heard)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = float(i)
    for j in range(1, m + 1):
        cost[0][j] = float(j)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i][j] = min(
                cost[i - 1][j - 1] + substitution_cost(reference[i - 1], heard[j - 1]),
                cost[i - 1][j] + 1.0,
                cost[i][j - 1] + 1.0,
            )
    pairs: list[Pair] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            step = substitution_cost(reference[i - 1], heard[j - 1])
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
