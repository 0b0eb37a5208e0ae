"""Short feedback sentences computed locally, so a learner always gets some advice
(the LLM feedback, when configured, replaces or extends these)."""

from __future__ import annotations

from collections.abc import Sequence

from speech.evaluation import Scores, WordResult
from speech.fluency import FluencyMeasures

_WEAK_WORD = 60
_LIST_AT_MOST = 5


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"“{w}”" for w in words[:_LIST_AT_MOST])


def _flagged(words: Sequence[WordResult], flag: str) -> list[str]:
    return [w.expected for w in words if w.expected and flag in w.prosody_errors]


def _phrasing(words: Sequence[WordResult]) -> list[str]:
    """Tips on how the text was phrased (`speech.prosody`)."""
    tips: list[str] = []
    broken = _flagged(words, "unexpected_break")
    if broken:
        tips.append(f"Keep phrases together: you paused before {_quoted(broken)}.")
    run_on = _flagged(words, "missing_break")
    if run_on:
        tips.append(f"Pause briefly at the punctuation after {_quoted(run_on)}.")
    if _flagged(words, "monotone"):
        tips.append("Let your voice rise and fall: some phrases were said on one pitch.")
    return tips


def local_feedback(
    scores: Scores, words: Sequence[WordResult], fluency: FluencyMeasures
) -> tuple[str, ...]:
    if fluency.word_count == 0:
        return ("We could not hear any speech. Check your microphone and try again.",)
    tips: list[str] = []
    omitted = [w.expected for w in words if w.error_type == "omission" and w.expected]
    if omitted:
        tips.append(f"You left out {_quoted(omitted)}.")
    added = [w.heard for w in words if w.error_type == "insertion" and w.heard]
    if added:
        tips.append(f"You added {_quoted(added)}, which is not in the text.")
    weak = [
        w.expected
        for w in sorted(words, key=lambda w: w.accuracy if w.accuracy is not None else 100)
        if w.expected
        and w.error_type != "omission"
        and w.accuracy is not None
        and (w.error_type == "mispronunciation" or w.accuracy < _WEAK_WORD)
    ]
    if weak:
        tips.append(f"Practise the pronunciation of {_quoted(weak)}.")
    tips.extend(_phrasing(words))
    if fluency.hesitations:
        tips.append("Try to replace fillers like “um” with a short silent pause.")
    if fluency.pause_count >= 2:
        tips.append("Read in longer phrases: you paused several times.")
    elif fluency.speech_rate_wpm and fluency.speech_rate_wpm < 80:
        tips.append("Try to speak a little faster and more smoothly.")
    if fluency.repetitions:
        tips.append("Keep going instead of repeating words.")
    if not tips:
        tips.append("Well done: clear and fluent." if scores.overall >= 80 else "Good effort.")
    return tuple(tips)
