"""Response models of `/healthz` and `/readyz`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Answered with 200 when ready and 503 when not, the same body either way."""

    status: Literal["ready", "unavailable"]
    checks: dict[str, str] = Field(
        description='Each check ("database", "capacity", "redis", "hub") and "ok" or '
        '"error: <reason>".'
    )
