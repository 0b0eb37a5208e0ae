"""A session's state as flat string fields: the Redis hash and the disk store's file."""

from __future__ import annotations

import json
import uuid

from realtime.session_store import SessionState
from storage.practice import ExerciseInfo
from storage.rubrics import RubricVersion


def encode_state(state: SessionState) -> dict[str, str | int]:
    e = state.exercise
    exercise = {
        "id": str(e.id),
        "course_id": str(e.course_id),
        "kind": e.kind,
        "title": e.title,
        "reference_text": e.reference_text,
        "prompt": e.prompt,
        "time_limit_s": e.time_limit_s,
        "rubric": None if e.rubric is None else [e.rubric.version, e.rubric.criteria],
    }
    return {
        "learner_id": str(state.learner_id),
        "session_id": str(state.session_id),
        "exercise": json.dumps(exercise),
        "sample_rate": state.sample_rate,
        "interim": int(state.interim),
        "token_digest": state.token_digest,
        "started_at": repr(state.started_at),
        "node": state.node,
    }


def decode_state(fields: dict[str, str]) -> SessionState:
    e = json.loads(fields["exercise"])
    exercise = ExerciseInfo(
        id=uuid.UUID(e["id"]),
        course_id=uuid.UUID(e["course_id"]),
        kind=e["kind"],
        title=e["title"],
        reference_text=e["reference_text"],
        prompt=e["prompt"],
        time_limit_s=e["time_limit_s"],
        # A session stored before rubrics existed has no "rubric" field.
        rubric=None if not e.get("rubric") else RubricVersion(*e["rubric"]),
    )
    return SessionState(
        session_id=uuid.UUID(fields["session_id"]),
        learner_id=uuid.UUID(fields["learner_id"]),
        exercise=exercise,
        sample_rate=int(fields["sample_rate"]),
        interim=fields["interim"] == "1",
        token_digest=fields["token_digest"],
        started_at=float(fields["started_at"]),
        node=fields["node"],
    )
