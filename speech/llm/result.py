"""What the feedback stage answers: always a `FeedbackResult`, from the LLM or computed locally."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from speech.llm.schema import LlmFeedback

STAGE_NAME = "parley-llm-feedback"
STAGE_VERSION = "1.0.0"

Source = Literal["llm", "local"]

# Why the feedback is local (`reason`): "not_configured", "timeout", "invalid_output" (after
# the retries), or "error: <what>" (an HTTP status or a connection failure).
NOT_CONFIGURED = "not_configured"
TIMEOUT = "timeout"
INVALID_OUTPUT = "invalid_output"


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    """`latency_ms` covers queueing, every attempt and the retries; token counts add up over
    the attempts (None when no attempt returned usage); `model` is the model that answered
    (None for local feedback)."""

    source: Source
    reason: str | None
    feedback: LlmFeedback
    model: str | None
    latency_ms: int
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 0
    stage_version: str = STAGE_VERSION
    rubric_result: dict[str, Any] | None = None  # `speech.llm.rubric.mark`, with a rubric

    @property
    def reason_kind(self) -> str | None:
        """`reason` without its detail ("error: HTTP 500" -> "error"): a metrics label."""
        return None if self.reason is None else self.reason.split(":", 1)[0]

    def stored(self) -> dict[str, Any]:
        """The JSON-ready form kept in an evaluation's details under `feedback`: the feedback
        fields beside where they came from."""
        return {
            "source": self.source,
            "reason": self.reason,
            "model": self.model,
            "stage": STAGE_NAME,
            "stage_version": self.stage_version,
            "latency_ms": self.latency_ms,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "attempts": self.attempts,
            **self.feedback.model_dump(mode="json"),
            "rubric_result": self.rubric_result,
        }
