"""Fluency and vocabulary measures from timed words (no model needed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

from speech.text import FILLERS, normalize
from speech.transcript import Word

PAUSE_S = 0.5


@dataclass(frozen=True, slots=True)
class FluencyMeasures:
    """`speech_rate_wpm` counts words over the time from the first word's start to the last
    word's end, pauses included; `articulation_rate_wpm` leaves the pauses (> 0.5 s) out.
    Hesitations are fillers (uh, um); repetitions are a word or two said again at once."""

    word_count: int
    speaking_time_s: float
    speech_rate_wpm: float
    articulation_rate_wpm: float
    pause_count: int
    pause_total_s: float
    longest_pause_s: float
    hesitations: int
    repetitions: int

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True, slots=True)
class LexicalMeasures:
    word_count: int
    unique_words: int
    type_token_ratio: float
    mean_word_length: float
    long_word_share: float

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def count_repetitions(keys: list[str]) -> int:
    """Back-to-back repeats of one word ("the the") or two ("I was I was")."""
    count, i = 0, 1
    while i < len(keys):
        if i >= 3 and keys[i - 3 : i - 1] == keys[i - 1 : i + 1]:
            count, i = count + 1, i + 2
        elif keys[i] == keys[i - 1]:
            count, i = count + 1, i + 1
        else:
            i += 1
    return count


def measure_fluency(words: tuple[Word, ...] | list[Word]) -> FluencyMeasures:
    spoken = [w for w in words if w.key and w.key not in FILLERS]
    hesitations = sum(1 for w in words if w.key in FILLERS)
    if not spoken:
        return FluencyMeasures(0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, hesitations, 0)
    span = max(spoken[-1].end - spoken[0].start, 0.01)
    gaps = [b.start - a.end for a, b in pairwise(words)]
    pauses = [g for g in gaps if g > PAUSE_S]
    talking = max(span - sum(pauses), 0.01)
    keys = [t.text for t in normalize([w.word for w in spoken])]
    return FluencyMeasures(
        word_count=len(spoken),
        speaking_time_s=span,
        speech_rate_wpm=60.0 * len(spoken) / span,
        articulation_rate_wpm=60.0 * len(spoken) / talking,
        pause_count=len(pauses),
        pause_total_s=sum(pauses),
        longest_pause_s=max(pauses, default=0.0),
        hesitations=hesitations,
        repetitions=count_repetitions(keys),
    )


def measure_lexicon(words: tuple[Word, ...] | list[Word]) -> LexicalMeasures:
    keys = [t.text for t in normalize([w.word for w in words]) if t.text not in FILLERS]
    if not keys:
        return LexicalMeasures(0, 0, 0.0, 0.0, 0.0)
    return LexicalMeasures(
        word_count=len(keys),
        unique_words=len(set(keys)),
        type_token_ratio=len(set(keys)) / len(keys),
        mean_word_length=sum(len(k) for k in keys) / len(keys),
        long_word_share=sum(1 for k in keys if len(k) >= 7) / len(keys),
    )
