"""The intonation group of the trained scorer's features: pitch and energy of a reading,
and the prosodic flags its words were given (`speech.prosody`).

Measured over the said words' spans only (phones' times where a word has them), so the
silence before and after a reading, and its pauses, weigh nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from speech.audio import SAMPLE_RATE, Samples
from speech.evaluation import WordResult
from speech.prosody.boundaries import CLAUSE_END
from speech.prosody.pitch import STEP_S, spread, track

INTONATION = (
    "f0_range_st",
    "f0_std_st",
    "f0_end_slope_st_s",
    "voiced_share",
    "energy_std_db",
    "break_rate",
    "monotone_share",
)
_END_S = 0.3  # the stretch of a phrase's last word whose pitch slope is read
_MIN_FRAMES = 5
_FRAME = 400  # 25 ms energy frames, every STEP_S
_QUIET_DB = 50.0  # energy frames this far below the loudest are silence


def intonation_features(audio16k: Samples, words: Sequence[WordResult]) -> dict[str, float]:
    """The named features of the group (blocking; about 30 ms per 10 s of audio)."""
    said = [w for w in words if w.expected is not None and w.start is not None]
    n = max(1, sum(1 for w in words if w.expected is not None))
    flags = {
        "break_rate": sum(
            ("unexpected_break" in w.prosody_errors) + ("missing_break" in w.prosody_errors)
            for w in words
        )
        / n,
        "monotone_share": sum("monotone" in w.prosody_errors for w in words) / n,
    }
    spans = [_span(w) for w in said]
    pitch = track(audio16k)
    voiced = [pitch.between(a, b) for a, b in spans]
    values = np.concatenate(voiced) if voiced else np.zeros(0)
    frames = sum(max(0, round((b - a) / STEP_S)) for a, b in spans)
    slopes = [
        _slope(pitch.between(b - _END_S, b))
        for w, (_, b) in zip(said, spans, strict=True)
        if w is said[-1] or (w.expected or "")[-1:] in CLAUSE_END
    ]
    found = [s for s in slopes if s is not None]
    return {
        "f0_range_st": spread(values) if len(values) >= _MIN_FRAMES else 0.0,
        "f0_std_st": float(np.std(values)) if len(values) >= _MIN_FRAMES else 0.0,
        "f0_end_slope_st_s": float(np.mean(found)) if found else 0.0,
        "voiced_share": len(values) / frames if frames else 0.0,
        "energy_std_db": _energy_spread(audio16k, spans),
        **flags,
    }


def _span(word: WordResult) -> tuple[float, float]:
    if word.phones:
        return word.phones[0].start, word.phones[-1].end
    assert word.start is not None and word.end is not None
    return word.start, word.end


def _slope(values: np.ndarray) -> float | None:
    """Semitones a second over a word's last voiced frames (a fall is negative)."""
    if len(values) < _MIN_FRAMES:
        return None
    return float(np.polyfit(np.arange(len(values)) * STEP_S, values, 1)[0])


def _energy_spread(audio16k: Samples, spans: list[tuple[float, float]]) -> float:
    """The standard deviation (dB) of the speech frames' energy: stress and phrasing
    move it, a flat delivery less."""
    hop = round(STEP_S * SAMPLE_RATE)
    levels: list[float] = []
    for a, b in spans:
        part = audio16k[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)].astype(np.float64)
        for at in range(0, len(part) - _FRAME + 1, hop):
            levels.append(10.0 * np.log10(np.mean(part[at : at + _FRAME] ** 2) + 1e-10))
    if len(levels) < _MIN_FRAMES:
        return 0.0
    db = np.array(levels)
    loud = db[db > db.max() - _QUIET_DB]
    return float(np.std(loud))
