"""Settings of the event hub (live events, presence, observers), nested as `settings.hub`."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, model_validator


class HubSettings(BaseModel):
    stream_max_len: int = Field(
        default=1000,
        ge=1,
        description="Events kept per channel for observers that reconnect with an offset.",
    )
    retention_s: int = Field(
        default=3600,
        ge=60,
        description=(
            "A channel's history (Redis) expires this long after its last event; an observer "
            "away longer reloads from REST."
        ),
    )
    memory_channels: int = Field(
        default=10_000,
        ge=10,
        description="Channels the in-memory bus keeps (least recently used are forgotten).",
    )
    publish_queue_size: int = Field(
        default=10_000,
        ge=10,
        description="Session events waiting to be published; past it events are dropped.",
    )
    presence_ttl_s: float = Field(
        default=15.0,
        gt=0,
        description="A node's live sessions vanish from presence this long after its last beat.",
    )
    presence_heartbeat_s: float = Field(
        default=5.0, gt=0, description="How often a node renews its presence (below the TTL)."
    )
    observer_outbox_size: int = Field(
        default=2048,
        ge=8,
        description=(
            "Messages queued for one observer; a slower observer is disconnected. Keep it "
            "above `stream_max_len`: a recovering observer is sent its whole backlog at once."
        ),
    )
    max_subscriptions: int = Field(
        default=100, ge=1, description="Channels one observer socket may subscribe to."
    )
    redis_timeout_s: float = Field(
        default=2.0, gt=0, description="Socket timeout of the hub's Redis commands."
    )
    redis_connections: int = Field(
        default=32, ge=2, description="Connections of the hub's Redis pool (plus one listening)."
    )
    reconnect_max_s: float = Field(
        default=2.0, gt=0, description="Longest wait between attempts to reach Redis again."
    )

    @model_validator(mode="after")
    def _beats_within_ttl(self) -> Self:
        if self.presence_heartbeat_s >= self.presence_ttl_s:
            raise ValueError("presence_heartbeat_s must be below presence_ttl_s")
        return self
