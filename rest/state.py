"""The parts one running app owns, built in the lifespan and reached via `request.app`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from realtime.throttle import Throttle
from rest.auth.accounts import Accounts
from rest.auth.passwords import Passwords
from rest.auth.tokens import TokenService
from rest.metrics import Metrics
from rest.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from realtime.hub import Hub
    from rest.model_audio import ModelAudio
    from speech.explain.analyser import TextAnalyser
    from storage.blobs import BlobStore


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    blobs: BlobStore
    tokens: TokenService
    passwords: Passwords
    accounts: Accounts
    throttle: Throttle
    metrics: Metrics
    node_id: str
    redis: Redis | None = None
    hub: Hub | None = None  # set in the lifespan before the practice service is built
    model_audio: ModelAudio | None = None  # set in the lifespan
    analyser: TextAnalyser | None = None  # set with the LLM client (`rest.practice`)
