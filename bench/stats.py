"""Statistics the benchmarks report: percentiles, summaries, word error rates."""

from __future__ import annotations

import statistics

from speech.alignment import align
from speech.text import normalize_text


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    """n, p50 and p95 in milliseconds."""
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values) * 1000) if values else float("nan"),
        "p95_ms": round(pct(values, 0.95) * 1000) if values else float("nan"),
    }


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    ref, hyp = normalize_text(reference), normalize_text(heard)
    return sum(p.op != "match" for p in align(ref, hyp)), len(ref)


def error_rate(counts: list[tuple[int, int]]) -> float:
    """Word error rate pooled over `word_errors` results (errors, reference words)."""
    return sum(e for e, _ in counts) / max(1, sum(n for _, n in counts))
