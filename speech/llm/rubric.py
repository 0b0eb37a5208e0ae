"""Marking an open response against a tutor's rubric.

The LLM is asked for one score and one sentence per criterion, in a schema made for the
rubric (`feedback_model`): its keys are exactly the rubric's, so a small model cannot skip
a criterion or invent one. Criteria Parley measures itself are marked from its own figures
instead, whatever the LLM says:

- `fluency`: the evaluation's fluency score;
- `pronunciation`: its accuracy score, where it has one;
- `vocabulary_range`: distinct words, 100 at `RANGE_WORDS` or more (a short answer cannot
  show range, so this counts words rather than a ratio that favours short answers);
- `length`: seconds spoken against the exercise's time limit (100 at the limit or beyond;
  without a limit, against `LENGTH_S`).

With no LLM answer (none configured, or it failed) every other criterion is `assessed:
false` with no score: a mark Parley cannot give is left out, never made up. `overall` is
the weighted mean of the assessed criteria, and `weight_assessed` says how much of the
rubric it covers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, create_model

from speech.llm.schema import Item, LlmFeedback, Score

RANGE_WORDS = 60
LENGTH_S = 60.0
MEASURED = ("fluency", "pronunciation", "vocabulary_range", "length")


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    name: str
    weight: int
    levels: tuple[tuple[int, str], ...]  # (score, descriptor), increasing


@dataclass(frozen=True, slots=True)
class Rubric:
    version: int
    criteria: tuple[Criterion, ...]

    @classmethod
    def from_stored(cls, version: int, criteria: list[dict[str, Any]]) -> Rubric:
        return cls(
            version,
            tuple(
                Criterion(
                    c["key"],
                    c["name"],
                    int(c["weight"]),
                    tuple((int(lv["score"]), str(lv["descriptor"])) for lv in c["levels"]),
                )
                for c in criteria
            ),
        )

    @property
    def asked(self) -> tuple[Criterion, ...]:
        """The criteria the LLM marks: those Parley does not measure itself."""
        return tuple(c for c in self.criteria if c.key not in MEASURED)


class StoredRubric(Protocol):
    """A rubric version as storage keeps it."""

    @property
    def version(self) -> int: ...
    @property
    def criteria(self) -> list[dict[str, Any]]: ...


def for_exercise(kind: str, stored: StoredRubric | None) -> Rubric | None:
    """The rubric an exercise's answers are marked against: an open response's only."""
    if stored is None or kind != "open_response":
        return None
    return Rubric.from_stored(stored.version, stored.criteria)


class _Mark(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    score: Score
    justification: Item = Field(description="One sentence: why this score.")


def feedback_model(rubric: Rubric) -> type[LlmFeedback]:
    """`LlmFeedback` whose `rubric` holds one mark per criterion the LLM is asked about."""
    marks: Any = create_model(  # type: ignore[call-overload]
        "RubricMarks",
        __config__=ConfigDict(extra="forbid", frozen=True),
        **{c.key: (_Mark, Field(description=c.name)) for c in rubric.asked},
    )
    model: type[LlmFeedback] = create_model(
        "LlmRubricFeedback",
        __base__=LlmFeedback,
        rubric=(marks, Field(description="A score 0-100 per criterion, by its levels.")),
    )
    return model


def describe(rubric: Rubric) -> str:
    """The criteria the LLM marks, with their levels, for the prompt."""
    lines = []
    for c in rubric.asked:
        levels = "; ".join(f"{score}: {text}" for score, text in c.levels)
        lines.append(f"- {c.key} ({c.name}): {levels}")
    return "\n".join(lines)


def _measured(key: str, evaluation: Mapping[str, Any], time_limit_s: int | None) -> float | None:
    scores = evaluation.get("scores") or {}
    if key == "fluency":
        return scores.get("fluency")
    if key == "pronunciation":
        return scores.get("accuracy")
    if key == "vocabulary_range":
        lexical = evaluation.get("lexical") or {}
        unique = lexical.get("unique_words")
        return None if unique is None else min(100.0, 100.0 * unique / RANGE_WORDS)
    spoken = (evaluation.get("fluency") or {}).get("speaking_time_s")
    if spoken is None:
        return None
    return min(100.0, 100.0 * float(spoken) / float(time_limit_s or LENGTH_S))


def _why(key: str, evaluation: Mapping[str, Any], time_limit_s: int | None) -> str:
    if key == "vocabulary_range":
        unique = (evaluation.get("lexical") or {}).get("unique_words")
        return f"Measured by Parley: {unique} different words."
    if key == "length":
        spoken = (evaluation.get("fluency") or {}).get("speaking_time_s")
        target = time_limit_s or LENGTH_S
        return f"Measured by Parley: {spoken} s spoken of {target:g} s."
    return f"Measured by Parley: the {'accuracy' if key == 'pronunciation' else key} score."


def mark(
    rubric: Rubric,
    evaluation: Mapping[str, Any],
    *,
    time_limit_s: int | None,
    llm: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The rubric result as stored and sent: per criterion, its score (or none), a
    justification, whether it was assessed and by whom; the weighted overall."""
    criteria: list[dict[str, Any]] = []
    for c in rubric.criteria:
        source: Literal["parley", "llm"] | None = None
        score: float | None = None
        why = "Not assessed: it needs the language model, which did not answer."
        if c.key in MEASURED:
            score = _measured(c.key, evaluation, time_limit_s)
            if score is not None:
                source, why = "parley", _why(c.key, evaluation, time_limit_s)
            else:
                why = "Not assessed: Parley could not measure it in this recording."
        elif llm is not None and c.key in llm:
            score, why, source = float(llm[c.key]["score"]), str(llm[c.key]["justification"]), "llm"
        criteria.append(
            {
                "key": c.key,
                "name": c.name,
                "weight": c.weight,
                "score": None if score is None else round(score),
                "justification": why,
                "assessed": source is not None,
                "source": source,
            }
        )
    assessed = [c for c in criteria if c["assessed"]]
    weight = sum(c["weight"] for c in assessed)
    overall = sum(c["weight"] * c["score"] for c in assessed) / weight if weight else None
    return {
        "version": rubric.version,
        "criteria": criteria,
        "overall": None if overall is None else round(overall),
        "weight_assessed": weight,
    }
