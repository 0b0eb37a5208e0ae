"""The explanation of a word, phrase or grammar point: the shape the LLM must answer in,
bounded like the feedback's (`speech.llm.schema`), and the shape of the local answer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_NAME = "parley_text_analysis"

Kind = Literal["word", "phrase", "grammar"]
Level = Literal["A1", "A2", "B1", "B2", "C1", "C2"]

MAX_DEFINITIONS = 6
MAX_EXAMPLES = 4
MAX_MISTAKES = 3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Definition(_Strict):
    part_of_speech: Annotated[str, Field(max_length=20)] = Field(
        description="noun, verb, adjective, adverb, phrasal verb, idiom, ..."
    )
    meaning: Annotated[str, Field(max_length=240)]


class Mistake(_Strict):
    mistake: Annotated[str, Field(max_length=120)] = Field(description="What learners say.")
    correction: Annotated[str, Field(max_length=120)] = Field(description="What to say.")
    why: Annotated[str, Field(max_length=200)] = Field(description="One short sentence.")


class Explanation(_Strict):
    """Every field is required (strict structured output): empty lists say "nothing"."""

    kind: Kind = Field(description="A single word, a phrase, or a grammar point.")
    summary: Annotated[str, Field(max_length=400)] = Field(
        description="What it means or how it works, in one or two sentences for the level."
    )
    definitions: Annotated[list[Definition], Field(max_length=MAX_DEFINITIONS)]
    examples: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=MAX_EXAMPLES)]
    common_mistakes: Annotated[list[Mistake], Field(max_length=MAX_MISTAKES)]
