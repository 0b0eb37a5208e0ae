"""Settings of model audio, the `tts` section of the app's settings tree."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from speech.tts.voice import MAX_RATE, MIN_RATE


class TtsSettings(BaseModel):
    provider: Literal["espeak-ng", "polly"] = Field(
        default="espeak-ng",
        description=(
            "Engine of the model audio: `espeak-ng` (Debian's package, offline; the server "
            "answers 503 `model_audio_unavailable` until it is installed) or `polly` "
            "(Amazon Polly, a cloud service billed per character)."
        ),
    )
    rate: int = Field(
        default=100,
        ge=MIN_RATE,
        le=MAX_RATE,
        description="Speaking rate in percent of the voice's normal speed, for exercises "
        "that set no `tts_rate`.",
    )
    max_concurrent: int = Field(
        default=2,
        ge=1,
        description="Texts synthesised at once on a node; more wait. Audio is made once "
        "per text, voice and rate, then served from the blob store.",
    )
    timeout_s: float = Field(
        default=30.0, gt=0, description="Longest one synthesis may take before it is abandoned."
    )
    espeak_path: str = Field(
        default="espeak-ng", description="The espeak-ng binary: a name on PATH or a path."
    )
    espeak_voice: str = Field(
        default="en-us",
        description="espeak-ng voice for exercises that set no `tts_voice` "
        "(`espeak-ng --voices` lists them).",
    )
    polly_voice: str = Field(
        default="Joanna", description="Amazon Polly voice for exercises that set no `tts_voice`."
    )
    polly_engine: Literal["standard", "neural", "long-form", "generative"] = Field(
        default="standard",
        description="Amazon Polly engine; the voice must support it.",
    )
    polly_region: str = Field(default="us-east-1", description="Amazon Polly region.")
    polly_endpoint_url: str | None = Field(
        default=None, description="Another Polly endpoint (a VPC endpoint, or a test stand-in)."
    )
    polly_access_key_id: SecretStr | None = Field(
        default=None, description="Unset: boto3's usual credential chain."
    )
    polly_secret_access_key: SecretStr | None = Field(
        default=None, description="Unset: boto3's usual credential chain."
    )
