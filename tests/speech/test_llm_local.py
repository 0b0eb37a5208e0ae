"""The parts of the feedback stage that need no endpoint: the schema, the prompt, the local
fallback feedback and the stored form."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from speech.llm.local import local_feedback_for, local_result
from speech.llm.prompt import MAX_WORD_ERRORS, build_messages
from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.llm.schema import LlmFeedback, feedback_schema
from storage.practice import merge_feedback
from tests.speech.llm_server import (
    REFERENCE,
    TRANSCRIPT,
    open_request,
    read_aloud_request,
    sample_evaluation,
    valid_feedback,
)


def objects(node: Any) -> list[dict[str, Any]]:
    """Every object schema inside `node`."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found += objects(value)
    elif isinstance(node, list):
        for value in node:
            found += objects(value)
    return found


def test_schema_is_strict_mode_compatible() -> None:
    schema = feedback_schema()
    found = objects(schema)
    assert len(found) == 3  # feedback, correction, rubric
    for obj in found:
        assert obj["additionalProperties"] is False
        assert set(obj["required"]) == set(obj["properties"])
    assert "title" not in schema and "description" not in schema
    props = schema["properties"]
    assert props["summary"]["maxLength"] == 400
    assert props["strengths"]["maxItems"] == 3 and props["strengths"]["items"]["maxLength"] == 200
    assert props["corrections"]["maxItems"] == 5
    assert props["pronunciation_tips"]["maxItems"] == 3
    assert props["rubric"]["anyOf"][1] == {"type": "null"}


def test_schema_without_bounds_keeps_the_structure() -> None:
    text = str(feedback_schema(bounds=False))
    assert "maxLength" not in text and "maxItems" not in text
    assert "additionalProperties" in text and "'minimum': 0" in text


@pytest.mark.parametrize(
    "change",
    [
        {"summary": "x" * 401},
        {"strengths": ["a", "b", "c", "d"]},
        {"corrections": [{"original": "a", "suggestion": "b"}]},
        {"rubric": {"grammar": 101, "vocabulary": 5, "relevance": 5}},
        {"next_exercise": None},
    ],
)
def test_answers_outside_the_bounds_are_rejected(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        LlmFeedback.model_validate(valid_feedback(**change))


def test_read_aloud_prompt_names_text_transcript_errors_and_figures() -> None:
    system, user = build_messages(read_aloud_request())
    assert system["role"] == "system" and "JSON" in str(system["content"])
    content = str(user["content"])
    assert REFERENCE in content and TRANSCRIPT in content
    assert "“your” sounded like “you” (accuracy 41)" in content
    assert "“you.” left out" in content and "“for” added (repetition)" in content
    assert "pause before “what” inside a phrase" in content
    assert "overall 80" in content and "117.4 words per minute" in content
    assert "rubric to null" in content
    assert len(content) < 1500  # small models need short prompts


def test_open_response_prompt_asks_for_the_rubric() -> None:
    content = str(build_messages(open_request())[1]["content"])
    assert "Say something about your country." in content and "rubric scores" in content


def test_prompt_lists_a_bounded_number_of_word_errors() -> None:
    evaluation = sample_evaluation()
    many = [{"expected": f"w{i}", "heard": None, "error_type": "omission"} for i in range(30)]
    request = FeedbackRequest("read_aloud", evaluation | {"words": many}, reference=REFERENCE)
    content = str(build_messages(request)[1]["content"])
    assert content.count("left out") == MAX_WORD_ERRORS and "and 22 more" in content


def test_local_feedback_for_read_aloud() -> None:
    evaluation = sample_evaluation()
    feedback = local_feedback_for(read_aloud_request())
    assert feedback.summary.startswith("Overall score 80/100")
    assert feedback.strengths == ["Your words were clear and easy to recognise."]
    assert [(c.original, c.suggestion) for c in feedback.corrections] == [
        ("you", "your"),
        ("(left out)", "you."),
    ]
    # The local evaluator's own advice, as computed by speech.feedback.local_feedback.
    assert feedback.pronunciation_tips == evaluation["feedback"][:3]
    assert "“your”" in feedback.next_exercise
    assert feedback.rubric is None
    LlmFeedback.model_validate(feedback.model_dump())  # within every bound


def test_local_feedback_for_open_response_and_thin_evaluations() -> None:
    assert local_feedback_for(open_request()).corrections == []
    thin = FeedbackRequest("open_response", {"transcript": "hi", "feedback": ["Speak up."]})
    feedback = local_feedback_for(thin)
    assert feedback.pronunciation_tips == ["Speak up."]
    assert feedback.summary and feedback.next_exercise


def test_local_feedback_clips_long_words() -> None:
    evaluation = sample_evaluation()
    words = [{"expected": "a" * 500, "heard": "b" * 500, "error_type": "mispronunciation"}]
    request = FeedbackRequest("read_aloud", evaluation | {"words": words}, reference="a")
    (correction,) = local_feedback_for(request).corrections
    assert len(correction.original) == 120 and correction.original.endswith("…")
    assert len(correction.explanation) == 200


def test_stored_form_and_merge_keep_the_local_tips() -> None:
    result = FeedbackResult(
        source="llm",
        reason=None,
        feedback=LlmFeedback.model_validate(valid_feedback()),
        model="m",
        latency_ms=1200,
        prompt_tokens=10,
        completion_tokens=20,
        attempts=1,
    )
    stored = result.stored()
    assert stored["source"] == "llm" and stored["model"] == "m"
    assert stored["stage"] == "parley-llm-feedback" and stored["stage_version"]
    assert (stored["latency_ms"], stored["prompt_tokens"], stored["completion_tokens"]) == (
        1200,
        10,
        20,
    )
    assert stored["summary"] == valid_feedback()["summary"]
    evaluation = sample_evaluation()
    merged = merge_feedback(evaluation, stored)
    assert merged["feedback"] == stored and merged["local_feedback"] == evaluation["feedback"]
    assert evaluation["feedback"] != stored  # the input is left alone
    assert merge_feedback(merged, stored)["local_feedback"] == evaluation["feedback"]


def test_local_result_reason_kind() -> None:
    result = local_result(read_aloud_request(), "error: HTTP 500", attempts=2)
    assert (result.source, result.reason_kind, result.model) == ("local", "error", None)
