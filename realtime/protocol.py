"""The practice websocket's messages: one model per message, a union per direction.

The reference for client authors is docs/protocol.md; this module is its executable form.
Binary websocket frames carry raw audio and are not modelled here.
"""

from __future__ import annotations

import enum
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from speech.llm.schema import LlmFeedback

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 48_000


class CloseCode(enum.IntEnum):
    """Application close codes (4000-4999), sent after `accept()` so browsers see them."""

    NORMAL = 1000
    GOING_AWAY = 1001
    TRY_AGAIN_LATER = 1013  # the database is unavailable (a DatabaseUnavailable)
    BAD_MESSAGE = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404
    IDLE = 4408
    CONFLICT = 4409
    TOO_LARGE = 4413
    TOO_MANY = 4429
    SLOW_CLIENT = 4430
    INTERNAL = 4500
    SHUTTING_DOWN = 4503
    NODE_FULL = 4509


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# client -> server


class AudioFormat(_Message):
    encoding: Literal["pcm_s16le"] = "pcm_s16le"
    sample_rate: Annotated[int, Field(ge=MIN_SAMPLE_RATE, le=MAX_SAMPLE_RATE)] = 16_000
    channels: Literal[1] = 1


class Resume(_Message):
    session_id: uuid.UUID
    token: Annotated[str, Field(min_length=1, max_length=200)]


class Start(_Message):
    type: Literal["start"]
    exercise_id: uuid.UUID | None = None
    audio: AudioFormat = AudioFormat()
    interim: bool = True
    resume: Resume | None = None


class AudioChunk(_Message):
    type: Literal["audio_chunk"]
    seq: Annotated[int, Field(ge=0)]
    data: Annotated[str, Field(description="base64 of raw audio bytes in the start's format")]


class Stop(_Message):
    type: Literal["stop"]


class Cancel(_Message):
    type: Literal["cancel"]


class Ping(_Message):
    type: Literal["ping"]
    id: Annotated[str, Field(max_length=64)] | None = None


ClientMessage = Annotated[Start | AudioChunk | Stop | Cancel | Ping, Field(discriminator="type")]
client_message: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


# server -> client


class Limits(_Message):
    max_frame_bytes: int
    max_audio_ms: int
    max_session_ms: int
    idle_timeout_ms: int
    resume_grace_ms: int


class Ack(_Message):
    type: Literal["ack"] = "ack"
    session_id: uuid.UUID
    resume_token: str
    limits: Limits
    resumed: bool = False
    received_bytes: int = Field(
        default=0, description="Audio bytes the server holds; a resuming client sends the rest."
    )


class AudioReceived(_Message):
    type: Literal["audio_received"] = "audio_received"
    bytes: int


class InterimTranscript(_Message):
    type: Literal["interim_transcript"] = "interim_transcript"
    committed: str = Field(description="Text that will not change again in this session.")
    tentative: str = Field(description="The rest, which later passes may still revise.")
    audio_ms: int


class Processing(_Message):
    type: Literal["processing"] = "processing"


class WordTiming(_Message):
    word: str
    start: float
    end: float
    probability: float


class Final(_Message):
    type: Literal["final"] = "final"
    session_id: uuid.UUID
    transcript: str
    words: list[WordTiming]
    audio_ms: int
    evaluation: dict[str, Any]


class CriterionResult(BaseModel):
    key: str
    name: str
    weight: int = Field(description="Percent of the rubric.")
    score: int | None = Field(description="0-100; null when not assessed.")
    justification: str
    assessed: bool
    source: Literal["llm", "parley"] | None = Field(
        description="`parley`: measured by Parley (fluency, pronunciation, vocabulary_range, "
        "length); `llm`: marked by the LLM; null: not assessed."
    )


class RubricResult(BaseModel):
    version: int = Field(description="The rubric version marked against.")
    criteria: list[CriterionResult]
    overall: int | None = Field(
        description="Weighted mean of the assessed criteria; null when none was."
    )
    weight_assessed: int = Field(description="Percent of the rubric's weight assessed.")


class Feedback(_Message):
    """Sent whole (not as deltas) once per completed session, after `final`."""

    type: Literal["feedback"] = "feedback"
    session_id: uuid.UUID
    source: Literal["llm", "local"] = Field(
        description="`llm`: written by the configured LLM; `local`: computed by Parley itself."
    )
    reason: str | None = Field(
        description=(
            "Why the feedback is local: `not_configured`, `timeout`, `invalid_output` or "
            "`error: ...`; null for LLM feedback."
        )
    )
    model: str | None = Field(description="The LLM that wrote it; null for local feedback.")
    feedback: LlmFeedback
    rubric_result: RubricResult | None = Field(
        None,
        description="An open response whose exercise has a rubric: its marks (protocol §9); "
        "null otherwise.",
    )


class Error(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    fatal: bool = False


class Pong(_Message):
    type: Literal["pong"] = "pong"
    id: str | None = None


ServerMessage = (
    Ack | AudioReceived | InterimTranscript | Processing | Final | Feedback | Error | Pong
)
