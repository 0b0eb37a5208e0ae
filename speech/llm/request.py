"""What the feedback stage is asked about: one exercise and its local evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from speech.llm.rubric import Rubric, StoredRubric, for_exercise


class ExerciseLike(Protocol):
    """What the request needs of an exercise (`storage.practice.ExerciseInfo` has it)."""

    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def reference_text(self) -> str | None: ...
    @property
    def prompt(self) -> str | None: ...
    @property
    def time_limit_s(self) -> int | None: ...
    @property
    def rubric(self) -> StoredRubric | None: ...


@dataclass(frozen=True, slots=True)
class FeedbackRequest:
    """`kind` is `read_aloud` or `open_response`; `evaluation` is the local evaluator's
    `Evaluation.to_dict()` (scores, per-word results, fluency figures, transcript)."""

    kind: str
    evaluation: Mapping[str, Any]
    reference: str | None = None
    prompt: str | None = None
    title: str | None = None
    rubric: Rubric | None = None  # an open response's, to mark it against
    time_limit_s: int | None = None

    @classmethod
    def about(cls, exercise: ExerciseLike, evaluation: Mapping[str, Any]) -> FeedbackRequest:
        """The request for an evaluated attempt at `exercise`: live and rescored alike."""
        return cls(
            kind=exercise.kind,
            evaluation=evaluation,
            reference=exercise.reference_text,
            prompt=exercise.prompt,
            title=exercise.title,
            rubric=for_exercise(exercise.kind, exercise.rubric),
            time_limit_s=exercise.time_limit_s,
        )

    @property
    def read_aloud(self) -> bool:
        return self.kind == "read_aloud" and bool(self.reference)

    @property
    def transcript(self) -> str:
        return str(self.evaluation.get("transcript") or "")
