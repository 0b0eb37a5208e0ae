"""Feedback in the LLM's shape computed from the local evaluation alone, so a learner always
gets feedback: when no LLM is configured, or it timed out, failed or answered garbage.

The advice itself is the local evaluator's (`speech.feedback.local_feedback`); this module
only arranges it, and the per-word results, into `LlmFeedback`'s fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from speech.evaluation import Scores, WordResult
from speech.feedback import local_feedback
from speech.fluency import FluencyMeasures
from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.llm.rubric import mark
from speech.llm.schema import (
    ITEM_CHARS,
    MAX_CORRECTIONS,
    MAX_STRENGTHS,
    MAX_TIPS,
    PHRASE_CHARS,
    SUMMARY_CHARS,
    Correction,
    LlmFeedback,
)

_GOOD = 80


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _parts(
    evaluation: Mapping[str, Any],
) -> tuple[Scores, tuple[WordResult, ...], FluencyMeasures] | None:
    """The evaluation's values back from its `to_dict()` form; None when it lacks them."""
    try:
        scores = Scores(**evaluation["scores"])
        words = tuple(WordResult(**w) for w in evaluation.get("words") or ())
        fluency = FluencyMeasures(**evaluation["fluency"])
    except (KeyError, TypeError):
        return None
    return scores, words, fluency


def _tips(evaluation: Mapping[str, Any]) -> list[str]:
    parts = _parts(evaluation)
    if parts is not None:
        return list(local_feedback(*parts))
    stored = evaluation.get("feedback")  # an evaluation without figures: its own tips, if any
    return [t for t in stored if isinstance(t, str)] if isinstance(stored, list) else []


def _summary(scores: Mapping[str, Any]) -> str:
    if "overall" not in scores:
        return "Here is some advice on your attempt."
    names = ("accuracy", "fluency", "completeness")
    figures = ", ".join(f"{n} {scores[n]}" for n in names if scores.get(n) is not None)
    return f"Overall score {scores['overall']}/100 ({figures})." if figures else ""


def _strengths(scores: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    if (scores.get("accuracy") or 0) >= _GOOD:
        out.append("Your words were clear and easy to recognise.")
    if (scores.get("fluency") or 0) >= _GOOD:
        out.append("You spoke smoothly, at a good pace.")
    if scores.get("completeness") == 100:
        out.append("You said every word of the text.")
    return out[:MAX_STRENGTHS]


def _corrections(words: Sequence[Mapping[str, Any]]) -> list[Correction]:
    out: list[Correction] = []
    for w in words:
        expected, heard, kind = w.get("expected"), w.get("heard"), w.get("error_type")
        if kind == "mispronunciation" and expected and heard:
            fix = Correction(
                original=clip(heard, PHRASE_CHARS),
                suggestion=clip(expected, PHRASE_CHARS),
                explanation=_item(f"“{expected}” sounded like “{heard}”."),
            )
        elif kind == "omission" and expected:
            fix = Correction(
                original="(left out)",
                suggestion=clip(expected, PHRASE_CHARS),
                explanation="This word of the text was not heard.",
            )
        elif kind == "insertion" and heard:
            fix = Correction(
                original=clip(heard, PHRASE_CHARS),
                suggestion="(leave out)",
                explanation="This word is not in the text.",
            )
        else:
            continue
        out.append(fix)
        if len(out) == MAX_CORRECTIONS:
            break
    return out


def _item(text: str) -> str:
    return clip(text, ITEM_CHARS)


def _next_exercise(request: FeedbackRequest, corrections: Sequence[Correction]) -> str:
    if not request.read_aloud:
        return "Answer the same prompt again in four or five full sentences."
    if corrections:
        words = ", ".join(f"“{c.suggestion}”" for c in corrections[:3] if c.suggestion[0] != "(")
        if words:
            return _item(f"Read the text again slowly, taking care with {words}.")
    return "Read the text again a little faster, in whole phrases."


def local_feedback_for(request: FeedbackRequest) -> LlmFeedback:
    evaluation = request.evaluation
    scores: Mapping[str, Any] = evaluation.get("scores") or {}
    corrections = _corrections(evaluation.get("words") or []) if request.read_aloud else []
    return LlmFeedback(
        summary=clip(_summary(scores), SUMMARY_CHARS),
        strengths=_strengths(scores),
        corrections=corrections,
        pronunciation_tips=[_item(t) for t in _tips(evaluation)[:MAX_TIPS]],
        next_exercise=_next_exercise(request, corrections),
        rubric=None,
    )


def local_result(
    request: FeedbackRequest,
    reason: str,
    *,
    latency_ms: int = 0,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    attempts: int = 0,
) -> FeedbackResult:
    return FeedbackResult(
        source="local",
        reason=reason,
        feedback=local_feedback_for(request),
        model=None,
        latency_ms=latency_ms,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        attempts=attempts,
        rubric_result=None
        if request.rubric is None
        else mark(request.rubric, request.evaluation, time_limit_s=request.time_limit_s, llm=None),
    )
