"""The feedback that follows a session's final: asked of the stage, stored, then sent.

Run in the session's background after `final` (which never waits for an LLM)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from realtime.ports import FeedbackStore
from realtime.protocol import Feedback
from speech.llm.request import FeedbackRequest
from speech.ports import FeedbackStage
from storage.practice import ExerciseInfo

log = logging.getLogger("parley.session")


async def collect_feedback(
    stage: FeedbackStage,
    store: FeedbackStore | None,
    *,
    session_id: uuid.UUID,
    exercise: ExerciseInfo,
    evaluation: dict[str, Any],
    saved: bool,
) -> Feedback:
    """The `feedback` message for the session; stored first (when the session itself was
    stored), so a client that reads the history when the message arrives finds it there."""
    request = FeedbackRequest.about(exercise, evaluation)
    result = await stage.run(request)
    if saved and store is not None:
        try:
            await store.feedback(session_id, result)
        except Exception:
            log.exception("storing the feedback of session %s failed", session_id)
    return Feedback(
        session_id=session_id,
        source=result.source,
        reason=result.reason,
        model=result.model,
        feedback=result.feedback,
        rubric_result=result.rubric_result,
    )
