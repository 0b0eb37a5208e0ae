"""Settings of the rescoring workers, nested as `settings.workers` in the app's settings tree."""

from __future__ import annotations

from pydantic import BaseModel, Field


class WorkerSettings(BaseModel):
    concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "Tasks one `parley worker` process runs at once (and its inference threads); "
            "one per core it may use. A server without Redis runs one task at a time."
        ),
    )
    model: str | None = Field(
        default=None,
        description="Whisper model a job uses when it names none; unset: `speech.model`.",
    )
    models: list[str] = Field(
        default=["bundled:tiny.en"],
        description=(
            "Whisper models a rescoring job may ask for, besides the default; anything else is "
            "refused when the job is created (a job must not load arbitrary paths)."
        ),
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=20,
        description="Tries of a task (failures, crashed workers) before it is dead-lettered.",
    )
    reclaim_idle_s: float = Field(
        default=60.0,
        ge=0.5,
        description=(
            "A task unacknowledged and without a heartbeat for this long belongs to a dead "
            "worker and is claimed by another. A live worker renews its tasks every third of it."
        ),
    )
    block_s: float = Field(
        default=2.0, gt=0, le=60, description="How long one XREADGROUP waits for a new task."
    )
    shutdown_grace_s: float = Field(
        default=30.0,
        ge=0,
        description=(
            "On SIGTERM, time the tasks in hand get to finish; past it they are handed back to "
            "the queue for another worker."
        ),
    )
    max_job_sessions: int = Field(
        default=50_000, ge=1, description="Largest number of sessions one job may cover."
    )
    embedded: bool = Field(
        default=True,
        description=(
            "Without Redis, the server itself runs rescoring tasks one at a time, yielding to "
            "live sessions; off, jobs can only be created where Redis is configured."
        ),
    )
