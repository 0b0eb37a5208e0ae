"""The result of an evaluation, as values with a JSON-ready `to_dict()`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from speech.fluency import FluencyMeasures, LexicalMeasures

EVALUATOR_NAME = "parley-local"
EVALUATOR_VERSION = "2.1.1"  # 2.1: prosodic error types on words; 2.1.1: phone passes apart

# How a phrase was said (`speech.prosody`): a pause where the text runs on, none where its
# punctuation ends a clause, a phrase on one pitch.
ProsodyError = Literal["unexpected_break", "missing_break", "monotone"]
PROSODY_ERRORS: tuple[ProsodyError, ...] = get_args(ProsodyError)
# A word's one error type: what was said wrong comes before how it was phrased.
ErrorType = Literal[
    "none",
    "mispronunciation",
    "omission",
    "insertion",
    "repetition",
    "unexpected_break",
    "missing_break",
    "monotone",
]
ExerciseKind = Literal["read_aloud", "open_response"]


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """One expected phone of a reference word as it was said (`speech.phones`).

    `phone` is ARPAbet without stress, `ipa` the IPA of the pronunciation's phone (an
    unstressed AH is a schwa), `accuracy` 0-100, `heard_as` the ARPAbet phone a free phone
    recogniser heard over most of its frames (None: silence there), times in seconds from
    the start of the recording. `gop` (goodness of pronunciation, nats per 10 ms frame,
    about 0 when the expected phone fits as well as any) and `frames` are the measurement
    behind `accuracy`, kept for analysis; they are not part of `to_dict()`.
    """

    phone: str
    ipa: str
    accuracy: int
    heard_as: str | None
    start: float
    end: float
    gop: float
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "ipa": self.ipa,
            "accuracy": self.accuracy,
            "heard_as": self.heard_as,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True, slots=True)
class WordResult:
    """One reference word (or one extra heard word: `expected` is None).

    `accuracy` is 0-100 (0 for an omitted word, None for an inserted one); times are
    seconds from the start of the recording, None when the word was not heard. `phones`:
    the expected phones of a reference word that was said, empty for any other word or
    when they could not be aligned. `prosody_errors`: every prosodic flag of the word
    (`speech.prosody`), `error_type` names the first of them only when the word has no
    other error: a pause before a mispronounced word is listed here, not lost.
    """

    expected: str | None
    heard: str | None
    error_type: ErrorType
    accuracy: int | None
    start: float | None
    end: float | None
    phones: tuple[PhoneResult, ...] = ()
    prosody_errors: tuple[ProsodyError, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "heard": self.heard,
            "error_type": self.error_type,
            "prosody_errors": list(self.prosody_errors),
            "accuracy": self.accuracy,
            "start": self.start,
            "end": self.end,
            "phones": [p.to_dict() for p in self.phones],
        }


@dataclass(frozen=True, slots=True)
class Scores:
    """0-100 each; `completeness` is None for an open response (no reference).

    `prosody` (rhythm, stress and intonation) is the trained scorer's (`speech.scorer`),
    None where it does not score: an open response, hand-tuned scoring. Last, with a
    default, so an evaluation stored before it existed reads back."""

    accuracy: int
    fluency: int
    completeness: int | None
    overall: int
    prosody: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "fluency": self.fluency,
            "prosody": self.prosody,
            "completeness": self.completeness,
            "overall": self.overall,
        }


@dataclass(frozen=True, slots=True)
class Evaluation:
    kind: ExerciseKind
    scores: Scores
    words: tuple[WordResult, ...]
    fluency: FluencyMeasures
    lexical: LexicalMeasures | None
    feedback: tuple[str, ...]
    transcript: str
    reference: str | None
    model: str
    evaluator: str = EVALUATOR_NAME
    evaluator_version: str = EVALUATOR_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scores": self.scores.to_dict(),
            "words": [w.to_dict() for w in self.words],
            "fluency": self.fluency.to_dict(),
            "lexical": None if self.lexical is None else self.lexical.to_dict(),
            "feedback": list(self.feedback),
            "transcript": self.transcript,
            "reference": self.reference,
            "evaluator": {"name": self.evaluator, "version": self.evaluator_version},
            "model": self.model,
        }
