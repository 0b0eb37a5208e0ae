"""Request and response models of rescoring jobs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from rest.schemas.sessions import Attrs, Instant, UtcDatetime
from rest.schemas.users import Strict
from storage.rescore import Scope

MAX_SESSION_IDS = 1000


class ScopeIn(Strict):
    """Sessions to rescore: every given part must match (at least one part is required).
    Only completed sessions with stored audio are covered."""

    course_id: uuid.UUID | None = None
    exercise_id: uuid.UUID | None = None
    learner_id: uuid.UUID | None = None
    session_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_SESSION_IDS)
    since: Instant | None = Field(default=None, description="Sessions started at or after.")
    until: Instant | None = Field(default=None, description="Sessions started before.")

    @model_validator(mode="after")
    def _check(self) -> ScopeIn:
        parts = (self.course_id, self.exercise_id, self.learner_id, self.since, self.until)
        if all(p is None for p in parts) and not self.session_ids:
            raise ValueError(
                "name at least one of course_id, exercise_id, learner_id, session_ids, since, until"
            )
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self

    def to_scope(self) -> Scope:
        return Scope(
            course_id=self.course_id,
            exercise_id=self.exercise_id,
            learner_id=self.learner_id,
            session_ids=tuple(dict.fromkeys(self.session_ids)),
            since=self.since,
            until=self.until,
        )


class OptionsIn(Strict):
    model: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None,
        description="Whisper model (one of the server's `workers.models`); default: configured.",
    )
    evaluator: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None,
        description=(
            "Evaluator version to score with, as evaluations name it (`evaluator.version`): "
            "the trained scorer's or the hand-tuned formulas' of the job's model; default: "
            "the model's default. A version the server does not offer is refused "
            "(422 `unknown_evaluator`); a worker without it fails the task, naming both."
        ),
    )
    llm: StrictBool = Field(default=False, description="Add LLM feedback (needs an LLM).")
    make_current: StrictBool = Field(
        default=True, description="Make each new version the session's current evaluation."
    )


class JobIn(Strict):
    scope: ScopeIn
    options: OptionsIn = OptionsIn()


class FailureOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session_id: uuid.UUID | None
    reason: str


class JobOut(Attrs):
    id: uuid.UUID
    created_by: uuid.UUID | None
    scope: dict[str, Any]
    options: dict[str, Any]
    status: str = Field(description="pending, running, completed, failed or cancelled.")
    total: int = Field(description="Sessions the job covers.")
    done: int = Field(description="Sessions with their new evaluation version stored.")
    failed: int = Field(description="Sessions that failed for good (see failures).")
    failures: list[FailureOut]
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None


class JobListQuery(Strict):
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class JobListOut(BaseModel):
    items: list[JobOut]


class EvaluatorOffer(BaseModel):
    version: str = Field(description="As `options.evaluator` takes it.")
    kind: str = Field(description="`trained` (the trained scorer) or `hand-tuned` (formulas).")


class ModelOffer(BaseModel):
    model: str = Field(description="As `options.model` takes it.")
    default: bool = Field(description="What a job without `options.model` uses.")
    evaluators: list[EvaluatorOffer] = Field(description="The model's default first.")


class OffersOut(BaseModel):
    """What a rescoring job may ask for on this server."""

    models: list[ModelOffer] = Field(description="The default model first.")
    llm: bool = Field(description="Whether `options.llm` may be true (an LLM is configured).")
