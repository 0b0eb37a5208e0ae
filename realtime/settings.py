"""Settings of the live practice websocket, nested as `settings.realtime`."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RealtimeSettings(BaseModel):
    max_frame_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="Largest websocket frame accepted (binary audio or JSON text).",
    )
    max_audio_s: float = Field(
        default=120.0, gt=0, description="Audio accepted per session; past it the session ends."
    )
    max_session_s: float = Field(
        default=600.0, gt=0, description="Wall-clock length of a session, pauses included."
    )
    idle_timeout_s: float = Field(
        default=30.0, gt=0, description="A connection with no audio, message or ping is closed."
    )
    resume_grace_s: float = Field(
        default=60.0,
        ge=0,
        description="How long a dropped session waits for its client to resume it.",
    )
    max_sessions_per_user: int = Field(
        default=2, ge=1, description="Live sessions one user may hold at once."
    )
    max_sessions_per_node: int = Field(
        default=0,
        ge=0,
        description=(
            "Live sessions (streaming or finalizing) this node takes at once; 0: no limit. "
            "Past it a new session gets `node_full` (fatal, close 4509) and `/readyz` answers "
            "503, so a load balancer sends learners elsewhere while this node's sessions go "
            "on. Size it with bench/ws_load.py (a 2-core node: 4 to 8)."
        ),
    )
    admission_lag_ms: int = Field(
        default=1000,
        ge=0,
        description=(
            "Admission by measured load: while the p95 of how far this node's interim "
            "transcripts trail their audio (last 5 s, all sessions) is above this, a new "
            "session gets `node_full` and `/readyz` answers 503, as at max_sessions_per_node, "
            "so a newcomer never slows the sessions already here; 0: off."
        ),
    )
    outbox_size: int = Field(
        default=256,
        ge=8,
        description="Messages queued for one client; a client that falls further behind is cut.",
    )
    audio_received_interval_ms: int = Field(
        default=500, ge=50, description="How often `audio_received` is sent while audio flows."
    )
    lease_ttl_s: float = Field(
        default=10.0,
        ge=0.5,
        description=(
            "With Redis: a session's ownership lease, renewed every third of it. A session "
            "whose node died can be resumed on another node once it lapses."
        ),
    )
    preload_model: bool = Field(
        default=True, description="Load the Whisper model at start-up rather than on first use."
    )
