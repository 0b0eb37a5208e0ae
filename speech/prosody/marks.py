"""Prosodic flags on the words of a reading: a pause where the text runs on
(`unexpected_break`), none where its punctuation ends a clause (`missing_break`), and a
phrase said on one pitch (`monotone`). Read-aloud only: an open response has no
reference punctuation to hold the pauses against.

Timings come from the phones' forced alignment (10 ms frames) where both words at a
junction have phones; else from Whisper's word timings, which smear pauses into the
neighbouring words, so only a long pause counts there and a missing one is never judged.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from speech.audio import Samples
from speech.evaluation import PROSODY_ERRORS, ProsodyError, WordResult
from speech.phones.arpabet import VOWELS
from speech.prosody.boundaries import after_each_word, clause_end, may_pause, sentence_end
from speech.prosody.pitch import Pitch, spread, track

# A silent interval from about 250-300 ms is heard as a pause; shorter ones are mostly
# the closures of stops and the joins of fluent speech (Goldman-Eisler 1968; De Jong &
# Bosker 2013 found 250 ms the best cut-off for fluency measures). 0.3 s keeps clear of
# a stop's closure (under 0.15 s) and of the aligner's 10-20 ms boundary error.
BREAK_S = 0.3
# Whisper's word edges are off by 0.1-0.3 s: only a pause fluency already counts.
BREAK_WHISPER_S = 0.5
# Below this, words run together: no silence a listener could hear at the boundary.
JOINED_S = 0.05
# A phrase whose pitch moves over less than this (10th-90th percentile of its voiced F0)
# sounds flat. Read English phrases span 3.3-9.4 semitones (Parley's native recordings);
# speechocean762's learners' whole readings have a 1st percentile of 1.9 and a 5th of
# 2.5; a reading flattened by PSOLA spans 0.1-0.2.
MONOTONE_ST = 2.0
MIN_PHRASE_WORDS = 3
_MIN_VOICED = 30  # frames (0.3 s) of voiced speech to judge a phrase's pitch by
# Marks of a comma without a pause: a pitch reset on the next word, or the last vowel
# before it drawn out (pre-boundary lengthening).
_RESET_ST = 2.0
_EDGE_S = 0.15
_LENGTHENED = 1.5


@dataclass(frozen=True, slots=True)
class _Junction:
    before: int  # positions in the words
    after: int
    marks: str  # the reference's punctuation between them
    gap: float
    precise: bool  # timed by the phones


def mark_prosody(
    words: tuple[WordResult, ...], reference: str, audio16k: Samples
) -> tuple[WordResult, ...]:
    """`words` (a reading's, `speech.evaluator`) with their prosodic flags added."""
    marks = after_each_word(reference)
    refs = [k for k, w in enumerate(words) if w.expected is not None]
    if len(refs) != len(marks):
        return words
    flags: list[list[ProsodyError]] = [[] for _ in words]
    junctions = [
        _junction(words, a, b, marks[n])
        for n, (a, b) in enumerate(pairwise(refs))
        if b == a + 1 and _said(words[a]) and _said(words[b])
    ]
    pitch = track(audio16k)
    vowels = [p.end - p.start for w in words for p in w.phones if p.phone in VOWELS]
    typical_vowel = float(np.median(vowels)) if vowels else 0.0
    for j in junctions:
        if not may_pause(j.marks) and j.gap >= (BREAK_S if j.precise else BREAK_WHISPER_S):
            flags[j.after].append("unexpected_break")
        if (
            clause_end(j.marks)
            and j.precise
            and j.gap < JOINED_S
            and (sentence_end(j.marks) or not _marked(words, j, pitch, typical_vowel))
        ):
            flags[j.before].append("missing_break")
    for phrase in _phrases(words, refs, junctions):
        if _flat(words, phrase, pitch):
            for k in phrase:
                flags[k].append("monotone")
    return tuple(_flagged(w, f) for w, f in zip(words, flags, strict=True))


def _said(word: WordResult) -> bool:
    return word.error_type != "omission" and word.start is not None


def _span(word: WordResult) -> tuple[float, float]:
    if word.phones:
        return word.phones[0].start, word.phones[-1].end
    assert word.start is not None and word.end is not None
    return word.start, word.end


def _junction(words: tuple[WordResult, ...], a: int, b: int, marks: str) -> _Junction:
    precise = bool(words[a].phones and words[b].phones)
    gap = _span(words[b])[0] - _span(words[a])[1] if precise else 0.0
    if not precise:
        end, start = words[a].end, words[b].start
        gap = 0.0 if end is None or start is None else start - end
    return _Junction(a, b, marks, round(gap, 3), precise)


def _marked(
    words: tuple[WordResult, ...], j: _Junction, pitch: Pitch, typical_vowel: float
) -> bool:
    """Whether a clause boundary said without a pause is marked otherwise: a pitch reset
    from the end of the word before to the start of the next, or a lengthened last vowel."""
    end = _span(words[j.before])[1]
    start = _span(words[j.after])[0]
    tail, head = pitch.between(end - _EDGE_S, end), pitch.between(start, start + _EDGE_S)
    if len(tail) >= 3 and len(head) >= 3 and np.median(head) - np.median(tail) >= _RESET_ST:
        return True
    last = [p for p in words[j.before].phones if p.phone in VOWELS][-1:]
    return bool(
        last and typical_vowel and last[0].end - last[0].start >= _LENGTHENED * typical_vowel
    )


def _phrases(
    words: tuple[WordResult, ...], refs: list[int], junctions: list[_Junction]
) -> list[list[int]]:
    """Runs of said reference words with no pause, punctuation or disfluency between."""
    joined = {
        j.before: j.after
        for j in junctions
        if not may_pause(j.marks) and j.gap < (BREAK_S if j.precise else BREAK_WHISPER_S)
    }
    out: list[list[int]] = []
    current: list[int] = []
    for k in refs:
        if not _said(words[k]):
            continue
        if current and joined.get(current[-1]) != k:
            out.append(current)
            current = []
        current.append(k)
    if current:
        out.append(current)
    return [p for p in out if len(p) >= MIN_PHRASE_WORDS]


def _flat(words: tuple[WordResult, ...], phrase: list[int], pitch: Pitch) -> bool:
    voiced = pitch.between(_span(words[phrase[0]])[0], _span(words[phrase[-1]])[1])
    return len(voiced) >= _MIN_VOICED and spread(voiced) < MONOTONE_ST


def _flagged(word: WordResult, flags: list[ProsodyError]) -> WordResult:
    if not flags:
        return word
    # One error type a word: what it said wrong first, then how it was phrased (breaks,
    # then pitch: PROSODY_ERRORS's order).
    ordered = tuple(f for f in PROSODY_ERRORS if f in flags)
    error = ordered[0] if word.error_type == "none" else word.error_type
    return replace(word, error_type=error, prosody_errors=ordered)
