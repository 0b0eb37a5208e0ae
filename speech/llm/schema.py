"""The structured feedback an LLM must answer with, bounded so a small model cannot run away.

The same pydantic model validates every answer and produces the JSON schema sent as
`response_format`; a llama.cpp server compiles the schema, bounds included, into a grammar,
so its output is constrained token by token.
"""

from __future__ import annotations

from typing import Annotated, Any

from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel, ConfigDict, Field

SCHEMA_NAME = "parley_feedback"

SUMMARY_CHARS = 400
ITEM_CHARS = 200
PHRASE_CHARS = 120  # a correction's original and suggestion: a phrase, not a paragraph
MAX_STRENGTHS = 3
MAX_CORRECTIONS = 5
MAX_TIPS = 3

Item = Annotated[str, Field(max_length=ITEM_CHARS)]
Phrase = Annotated[str, Field(max_length=PHRASE_CHARS)]
Score = Annotated[int, Field(ge=0, le=100)]


class _Strict(BaseModel):
    # extra="forbid" puts `additionalProperties: false` in the schema, as strict mode requires.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Correction(_Strict):
    original: Phrase = Field(description="What the learner said (or read wrongly).")
    suggestion: Phrase = Field(description="What to say instead.")
    explanation: Item = Field(description="Why, in one short sentence.")


class Rubric(_Strict):
    grammar: Score
    vocabulary: Score
    relevance: Score = Field(description="How well the answer fits the prompt.")


class LlmFeedback(_Strict):
    """Feedback on one attempt. Every field is required (strict structured output has no
    optional fields): empty lists and a null rubric are how the model says "nothing"."""

    summary: Annotated[str, Field(max_length=SUMMARY_CHARS)] = Field(
        description="Two or three sentences on how it went."
    )
    strengths: Annotated[list[Item], Field(max_length=MAX_STRENGTHS)]
    corrections: Annotated[list[Correction], Field(max_length=MAX_CORRECTIONS)]
    pronunciation_tips: Annotated[list[Item], Field(max_length=MAX_TIPS)]
    next_exercise: Item = Field(description="One concrete exercise to do next.")
    rubric: Rubric | None = Field(description="Scores 0-100; null for a read-aloud exercise.")


_BOUNDS = ("maxLength", "maxItems")


def feedback_schema(*, bounds: bool = True, model: type[BaseModel] | None = None) -> dict[str, Any]:
    """The JSON schema of `LlmFeedback` for `response_format` (titles dropped: they only
    cost prompt tokens). `bounds=False` leaves out maxLength/maxItems for providers that
    reject them in strict mode."""

    def clean(node: Any, *, in_properties: bool = False) -> Any:
        if isinstance(node, list):
            return [clean(item) for item in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            # Under "properties" and "$defs" the keys are names, not schema keywords.
            if not in_properties and (key == "title" or (not bounds and key in _BOUNDS)):
                continue
            out[key] = clean(value, in_properties=key in ("properties", "$defs"))
        return out

    schema: dict[str, Any] = clean((model or LlmFeedback).model_json_schema())
    schema.pop("description", None)  # the class docstring is for developers, not the model
    return schema


def response_format(
    *, bounds: bool = True, model: type[BaseModel] | None = None, name: str = SCHEMA_NAME
) -> ResponseFormatJSONSchema:
    """`model`: a variant of `LlmFeedback` (a rubric's, `speech.llm.rubric`), or another
    answer's shape under its own `name` (`speech.explain`)."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "schema": feedback_schema(bounds=bounds, model=model),
            "strict": True,
        },
    }
