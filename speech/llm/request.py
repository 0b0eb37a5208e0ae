"""What the feedback stage is asked about: one exercise and its local evaluation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from speech.llm.rubric import Rubric


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

    @property
    def read_aloud(self) -> bool:
        return self.kind == "read_aloud" and bool(self.reference)

    @property
    def transcript(self) -> str:
        return str(self.evaluation.get("transcript") or "")
