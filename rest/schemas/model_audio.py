"""Query and response of an exercise's model audio, and the exercise settings that shape it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from rest.schemas.users import Strict
from speech.tts.voice import MAX_RATE, MIN_RATE

TtsVoice = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_+-]*$",
        examples=["en-gb", "Joanna"],
        description=(
            "Voice of the model audio, in the server's engine's names (espeak-ng: `en-us`, "
            "`en-gb`, `en-us+f3`...; Amazon Polly: `Joanna`, `Brian`...); null: the "
            "server's default."
        ),
    ),
]
TtsRate = Annotated[
    int,
    Field(
        ge=MIN_RATE,
        le=MAX_RATE,
        description="Speed of the model audio in percent of normal; null: the server's default.",
    ),
]


class ModelAudioQuery(Strict):
    word: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description=(
            "One word of the exercise's reference text (case and surrounding punctuation "
            "aside, e.g. a scored word's `expected`): that word alone instead of the text."
        ),
    )


class ModelAudioOut(BaseModel):
    text: str = Field(description="What the audio says.")
    voice: str
    rate: int = Field(description="Speed in percent of the voice's normal speed.")
    engine: str = Field(description='Engine and version, e.g. "espeak-ng 1.51".')
    playback_url: str = Field(
        description="Where to fetch the WAV: presigned on S3 (valid for `blobs.presign_ttl_s`), "
        "else this API's `model-audio/wav` route (bearer token needed)."
    )
