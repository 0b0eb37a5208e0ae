"""The observer websocket's messages (`/v1/ws/observe`), and the session events it carries.

An event's `message` is the server message the learner received (`interim_transcript`,
`final`, `feedback`), or one of the two session-level messages defined here. The reference
for client authors is docs/protocol.md.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from realtime.protocol import Feedback, Final, InterimTranscript

ChannelKind = Literal["session", "learner", "course", "all"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# session-level events (not sent to the learner)


class SessionStarted(_Message):
    type: Literal["session_started"] = "session_started"
    exercise_title: str
    started_at: str = Field(description="ISO 8601, UTC.")


class SessionEnded(_Message):
    type: Literal["session_ended"] = "session_ended"
    state: str = Field(description="`done`, `cancelled` or `abandoned`.")


EventMessage = InterimTranscript | Final | Feedback | SessionStarted | SessionEnded


# observer -> server


class ChannelRef(_Message):
    kind: ChannelKind
    id: Annotated[str, Field(max_length=64)] = Field(
        default="*", description="The session, learner or course id; `*` for `all`."
    )


class Subscribe(_Message):
    type: Literal["subscribe"]
    channel: ChannelRef
    offset: Annotated[int, Field(ge=0)] | None = None
    epoch: Annotated[str, Field(max_length=64)] | None = None


class Unsubscribe(_Message):
    type: Literal["unsubscribe"]
    channel: ChannelRef


class ObservePing(_Message):
    type: Literal["ping"]
    id: Annotated[str, Field(max_length=64)] | None = None


ObserverMessage = Annotated[Subscribe | Unsubscribe | ObservePing, Field(discriminator="type")]
observer_message: TypeAdapter[ObserverMessage] = TypeAdapter(ObserverMessage)


# server -> observer


class Subscribed(_Message):
    type: Literal["subscribed"] = "subscribed"
    channel: str
    offset: int = Field(description="Events up to this offset are delivered or were before.")
    epoch: str


class Unsubscribed(_Message):
    type: Literal["unsubscribed"] = "unsubscribed"
    channel: str


class Reload(_Message):
    type: Literal["reload"] = "reload"
    channel: str
    reason: str = Field(description="`epoch_changed`, `history_trimmed` or `unavailable`.")


class ObserveError(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    fatal: bool = False


class ObservePong(_Message):
    type: Literal["pong"] = "pong"
    id: str | None = None


def event_body(
    *,
    session_id: uuid.UUID,
    learner_id: uuid.UUID,
    course_id: uuid.UUID,
    exercise_id: uuid.UUID,
    node: str,
    message: EventMessage,
) -> dict[str, Any]:
    """The JSON-ready `event` of an `event` message."""
    return {
        "session_id": str(session_id),
        "learner_id": str(learner_id),
        "course_id": str(course_id),
        "exercise_id": str(exercise_id),
        "node": node,
        "message": message.model_dump(mode="json"),
    }
