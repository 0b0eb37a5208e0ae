"""The chat messages asking for feedback: short, because small local models lose the thread
in long prompts (and every prompt token costs time on a CPU)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openai.types.chat import ChatCompletionMessageParam

from speech.llm.local import clip
from speech.llm.request import FeedbackRequest
from speech.llm.rubric import describe

TEXT_CHARS = 1200  # of the reference text, prompt or transcript
MAX_WORD_ERRORS = 8

SYSTEM = (
    "You are a friendly English speaking tutor. A learner has just spoken and an automatic "
    "evaluator has scored the recording. Reply with JSON only, in the given schema. Be brief "
    "and concrete: one short sentence per text, at most two items per list; quote the "
    "learner's words, correct real mistakes only, and never invent words that were not said."
)

_READ_ALOUD_TASK = (
    "Task: the learner read the text aloud. Point out the two or three pronunciation points "
    "that matter most. Set rubric to null."
)
_OPEN_TASK = (
    "Task: the learner answered the prompt freely. Judge grammar, vocabulary and relevance to "
    "the prompt; suggest better phrasing in corrections; give rubric scores from 0 to 100."
)


def _quote(text: str | None) -> str:
    return f"“{clip(' '.join((text or '').split()), TEXT_CHARS)}”"


def _phrasing(words: Sequence[Mapping[str, Any]]) -> list[str]:
    """How the text was phrased (`speech.prosody`): breaks word by word, flat pitch once."""
    out: list[str] = []
    flat: list[str] = []
    for w in words:
        flags, expected = w.get("prosody_errors") or (), w.get("expected")
        if "unexpected_break" in flags:
            out.append(f"pause before “{expected}” inside a phrase")
        if "missing_break" in flags:
            out.append(f"no pause at the punctuation after “{expected}”")
        if "monotone" in flags:
            flat.append(str(expected))
    if flat:
        out.append(f"said on one pitch: “{clip(' '.join(flat), TEXT_CHARS)}”")
    return out


def _word_errors(words: Sequence[Mapping[str, Any]]) -> str:
    found: list[str] = []
    for w in words:
        kind, expected, heard = w.get("error_type"), w.get("expected"), w.get("heard")
        if kind == "mispronunciation":
            found.append(f"“{expected}” sounded like “{heard}” (accuracy {w.get('accuracy')})")
        elif kind == "omission":
            found.append(f"“{expected}” left out")
        elif kind in ("insertion", "repetition"):
            found.append(f"“{heard}” added ({kind})")
    found.extend(_phrasing(words))  # after what was said wrong: the cap cuts these first
    if not found:
        return "none"
    more = len(found) - MAX_WORD_ERRORS
    return "; ".join(found[:MAX_WORD_ERRORS]) + (f"; and {more} more" if more > 0 else "")


def _scores(scores: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in scores.items() if v is not None) or "none"


def _fluency(fluency: Mapping[str, Any]) -> str:
    if not fluency:
        return "unknown"
    return (
        f"{fluency.get('speech_rate_wpm', 0)} words per minute, "
        f"{fluency.get('pause_count', 0)} long pauses, "
        f"{fluency.get('hesitations', 0)} fillers, {fluency.get('repetitions', 0)} repetitions"
    )


def _task(request: FeedbackRequest) -> str:
    if request.rubric is None:
        return _OPEN_TASK
    return (
        "Task: the learner answered the prompt freely. Suggest better phrasing in "
        "corrections. In rubric, give each criterion below a score from 0 to 100 by its "
        "levels and one sentence why:\n" + describe(request.rubric)
    )


def build_messages(request: FeedbackRequest) -> list[ChatCompletionMessageParam]:
    evaluation = request.evaluation
    lines = (
        [f"Text to read: {_quote(request.reference)}", _READ_ALOUD_TASK]
        if request.read_aloud
        else [f"Prompt: {_quote(request.prompt or request.title)}", _task(request)]
    )
    lines += [
        f"What the learner said (speech recognition): {_quote(request.transcript)}",
        f"Scores out of 100: {_scores(evaluation.get('scores') or {})}.",
        f"Word errors: {_word_errors(evaluation.get('words') or [])}.",
        f"Fluency: {_fluency(evaluation.get('fluency') or {})}.",
    ]
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "\n".join(lines)},
    ]
