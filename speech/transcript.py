"""What the transcriber hands out: words with timings, interim and final transcripts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PUNCT = re.compile(r"[^\w']+")


@dataclass(frozen=True, slots=True)
class Word:
    """A recognised word. `word` keeps Whisper's form: a leading space, case, punctuation.

    `start`/`end` are seconds from the start of the utterance; `probability` is the mean
    probability of the word's tokens (0-1).
    """

    word: str
    start: float
    end: float
    probability: float

    @property
    def key(self) -> str:
        """Case- and punctuation-free form, for comparing hypotheses."""
        return _PUNCT.sub("", self.word.lower())

    def shifted(self, offset_s: float) -> Word:
        return Word(self.word, self.start + offset_s, self.end + offset_s, self.probability)

    def to_dict(self) -> dict[str, Any]:
        return {
            "word": self.word.strip(),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "probability": round(self.probability, 4),
        }


def join_words(words: tuple[Word, ...] | list[Word]) -> str:
    return "".join(w.word for w in words).strip()


@dataclass(frozen=True, slots=True)
class Interim:
    """A live update. `committed` only ever grows (each is a prefix of the next);
    `tentative` is the unconfirmed tail and may change; `audio_ms` is how much of the
    stream this update has heard."""

    committed: str
    tentative: str
    audio_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {"committed": self.committed, "tentative": self.tentative, "audio_ms": self.audio_ms}


@dataclass(frozen=True, slots=True)
class FinalTranscript:
    text: str
    words: tuple[Word, ...] = field(default_factory=tuple)
    model: str = ""
    duration_ms: int = 0
    # (start, end) in seconds of the parts decoded apart (see `speech.segments`); none:
    # decoded whole. Not part of the stored transcript: the evaluator's to use.
    segments: tuple[tuple[float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
            "model": self.model,
            "duration_ms": self.duration_ms,
        }
