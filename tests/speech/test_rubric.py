"""Marking an open response against a rubric: the schema the LLM must fill, the marks
combined with Parley's own measures, and the local fallback that never makes one up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from speech.llm.local import local_result
from speech.llm.prompt import build_messages
from speech.llm.rubric import feedback_model, mark
from speech.llm.schema import feedback_schema
from tests.speech.llm_server import valid_feedback
from tests.speech.rubric_sample import RUBRIC, rubric_request


def test_the_schema_asks_for_exactly_the_criteria_parley_does_not_measure() -> None:
    schema = feedback_schema(model=feedback_model(RUBRIC))
    marks = schema["$defs"]["RubricMarks"]
    assert set(marks["properties"]) == set(marks["required"]) == {"task", "grammar"}
    assert marks["additionalProperties"] is False
    model = feedback_model(RUBRIC)
    good = valid_feedback(
        rubric={k: {"score": 70, "justification": "Fine."} for k in ("task", "grammar")}
    )
    assert model.model_validate(good).rubric is not None
    for bad in (
        {"task": {"score": 70, "justification": "Fine."}},  # grammar missing
        {k: {"score": 101, "justification": "x"} for k in ("task", "grammar")},
        {k: {"score": 5, "justification": "x"} for k in ("task", "grammar", "extra")},
    ):
        with pytest.raises(ValidationError):
            model.model_validate(valid_feedback(rubric=bad))


def test_the_prompt_lists_the_criteria_and_their_levels() -> None:
    text = json.dumps(build_messages(rubric_request()))
    assert "task (Task completion): 20: Hard to follow; 60: Mostly clear" in text
    assert "fluency (Fluency)" not in text  # Parley marks that one itself


def test_marks_combine_the_llm_with_parley_s_measures() -> None:
    request = rubric_request(time_limit_s=30)
    llm: dict[str, Any] = {
        "task": {"score": 80, "justification": "Answers the prompt."},
        "grammar": {"score": 50, "justification": "Some slips."},
        # A mark for a measured criterion is ignored: Parley's own figure stands.
        "fluency": {"score": 5, "justification": "?"},
    }
    result = mark(RUBRIC, request.evaluation, time_limit_s=30, llm=llm)
    by_key = {c["key"]: c for c in result["criteria"]}
    assert (by_key["task"]["score"], by_key["task"]["source"]) == (80, "llm")
    assert (by_key["fluency"]["score"], by_key["fluency"]["source"]) == (71, "parley")
    spoken = request.evaluation["fluency"]["speaking_time_s"]  # 2.3 s of 30
    assert by_key["length"]["score"] == round(100 * spoken / 30)
    expected = (40 * 80 + 30 * 50 + 20 * 71 + 10 * round(100 * spoken / 30)) / 100
    assert result["overall"] == round(expected)
    assert (result["version"], result["weight_assessed"]) == (3, 100)


def test_without_the_llm_only_what_parley_measures_is_marked() -> None:
    request = rubric_request(time_limit_s=None)
    result = local_result(request, "not_configured").rubric_result
    assert result is not None
    by_key = {c["key"]: c for c in result["criteria"]}
    for key in ("task", "grammar"):
        assert by_key[key]["assessed"] is False and by_key[key]["score"] is None
        assert by_key[key]["source"] is None
    spoken = request.evaluation["fluency"]["speaking_time_s"]
    length = round(100 * spoken / 60)  # no time limit: against a minute
    assert by_key["length"]["score"] == length
    assert result["weight_assessed"] == 30
    assert result["overall"] == round((20 * 71 + 10 * length) / 30)
    stored = local_result(request, "not_configured").stored()
    assert stored["rubric_result"] == result and stored["rubric"] is None
