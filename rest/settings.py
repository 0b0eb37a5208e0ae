"""The one typed settings tree, composed from each package's sections.

Read once at the entry point (`Settings()`), then passed down. Environment names are
`PARLEY_<SECTION>__<FIELD>`, e.g. `PARLEY_DB__URL`; a `.env` file in the working folder is honoured.
"""

from __future__ import annotations

import os
import socket
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from realtime.hub_settings import HubSettings
from realtime.limit_settings import LimitSettings
from realtime.settings import RealtimeSettings
from speech.llm.settings import LlmSettings
from speech.settings import SpeechSettings
from speech.tts.settings import TtsSettings
from storage.settings import BlobSettings, DatabaseSettings, RedisSettings
from workers.settings import WorkerSettings


class AuthSettings(BaseModel):
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "HMAC key for JWTs. Unset: a random key is created once in the data folder "
            "(single node only; every node of a cluster must share one key)."
        ),
    )
    issuer: str = Field(default="parley", description="JWT `iss` claim issued and required.")
    audience: str = Field(default="parley-api", description="JWT `aud` claim issued and required.")
    access_ttl_s: int = Field(default=900, ge=30, description="Access token lifetime.")
    refresh_ttl_s: int = Field(default=7 * 24 * 3600, ge=60, description="Refresh token lifetime.")
    open_registration: bool = Field(
        default=True, description="Anyone may register as a learner via POST /v1/auth/register."
    )
    account_check_s: float = Field(
        default=5.0,
        ge=0,
        description=(
            "How long a node trusts what it last read of an account (exists, active, role, "
            "revoked tokens): a disabled account, a demotion or a sign-out everywhere takes "
            "effect on every node within this time, not when the token expires."
        ),
    )
    hash_concurrency: int = Field(
        default=1,
        ge=1,
        description=(
            "Password hashes (Argon2, ~0.1 s of CPU each) computed at once on a node; others "
            "queue, so a flood of logins slows logins, not live sessions."
        ),
    )
    tutors_see_emails: bool = Field(
        default=True,
        description=(
            "Tutors read the e-mail addresses of their courses' members (true suits one "
            "school). False, for a server that schools share: only admins do, and a tutor "
            "who enrols someone by id learns nothing of the account but its display name."
        ),
    )


class ServerSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Interface `parley serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `parley serve` binds.")
    node_id: str | None = Field(
        default=None, description="Name of this node in a cluster; default: hostname-pid."
    )
    data_dir: str = Field(default="var", description="Folder for the embedded defaults' files.")
    log_level: str = Field(default="info", description="Python logging level.")
    log_format: Literal["json", "text"] = Field(
        default="json",
        description=(
            "Log lines of `parley serve` and `parley worker`: one JSON object per line (time, "
            "level, logger, message, node_id, request_id, user_id, session_id, and an access "
            "line's method, path, status, duration_ms), or text for a person at a terminal."
        ),
    )

    def node_name(self) -> str:
        """This process's name in the cluster and in its logs: `node_id`, or hostname-pid."""
        return self.node_id or f"{socket.gethostname()}-{os.getpid()}"

    ws_compression: bool = Field(
        default=False,
        description=(
            "Offer permessage-deflate on websockets. Off: it costs about 45 KiB of server "
            "memory per connection, idle or not, for little gain on short JSON messages."
        ),
    )
    ws_protocol: Literal["websockets-sansio", "websockets", "wsproto"] = Field(
        default="websockets-sansio",
        description=(
            "The websocket implementation uvicorn serves sockets with. Only the default is "
            "tested with Parley's clients: wsproto holds an idle socket in ~2 KiB less, but "
            "does not answer a browser's subprotocol nor close invalid UTF-8 with 1007."
        ),
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Origins (e.g. `https://app.school.org`) whose pages may call the API from a "
            "browser. Empty: no CORS headers, only Parley's own pages (same origin) may."
        ),
    )
    seed_demo: bool = Field(
        default=True,
        description=(
            'At start-up, create the published course "Parley demo" with the read-aloud '
            "exercise `parley demo` uses, if missing (never overwrites edits)."
        ),
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PARLEY_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    server: ServerSettings = ServerSettings()
    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    blobs: BlobSettings = BlobSettings()
    auth: AuthSettings = AuthSettings()
    realtime: RealtimeSettings = RealtimeSettings()
    speech: SpeechSettings = SpeechSettings()
    llm: LlmSettings = LlmSettings()
    tts: TtsSettings = TtsSettings()
    workers: WorkerSettings = WorkerSettings()
    hub: HubSettings = HubSettings()
    limits: LimitSettings = LimitSettings()
