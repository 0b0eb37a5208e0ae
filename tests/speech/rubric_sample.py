"""A rubric as tests use it: two criteria the LLM marks and two Parley measures."""

from __future__ import annotations

from dataclasses import replace

from speech.llm.request import FeedbackRequest
from speech.llm.rubric import Criterion, Rubric
from tests.speech.llm_server import open_request

LEVELS = ((20, "Hard to follow"), (60, "Mostly clear"), (95, "Clear and precise"))
RUBRIC = Rubric(
    version=3,
    criteria=(
        Criterion("task", "Task completion", 40, LEVELS),
        Criterion("grammar", "Grammar", 30, LEVELS),
        Criterion("fluency", "Fluency", 20, LEVELS),
        Criterion("length", "Length", 10, LEVELS),
    ),
)


def rubric_request(time_limit_s: int | None = 30) -> FeedbackRequest:
    return replace(open_request(), rubric=RUBRIC, time_limit_s=time_limit_s)
