"""Composes the live practice service from the app's parts (settings, database, blobs)."""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta
from pathlib import Path

from realtime.handoff import HandoffChannel
from realtime.pending_writes import PendingWrites
from realtime.recorder import DatabaseRecorder
from realtime.recovery import Leftovers
from realtime.service import PracticeService
from realtime.session_store import SessionStore
from realtime.session_store_disk import DiskSessionStore
from realtime.session_store_redis import RedisSessionStore
from rest.auth.accounts import socket_authenticator
from rest.state import AppState
from speech.engine import WhisperEngine
from speech.explain.analyser import TextAnalyser
from speech.llm.client import open_stage
from storage import practice
from storage.access import Principal
from storage.practice import ExerciseInfo
from storage.redis_keys import Keys

log = logging.getLogger("parley")


async def build_practice(state: AppState) -> PracticeService:
    settings = state.settings

    async def exercises(exercise_id: uuid.UUID, who: Principal) -> ExerciseInfo:
        async with state.sessions() as db:
            return await practice.exercise_for(db, exercise_id, who)

    recorder = DatabaseRecorder(sessions=state.sessions, blobs=state.blobs, node_id=state.node_id)
    resources = contextlib.AsyncExitStack()
    # Results kept through a database outage (by this process or one before it) are stored
    # first, before sessions left behind are judged below.
    data_dir = Path(settings.server.data_dir)
    recorder.pending = PendingWrites(data_dir / "pending-results", recorder.apply)
    await recorder.pending.flush()
    recorder.pending.start()
    resources.push_async_callback(recorder.pending.aclose)
    lifetime = settings.realtime.max_session_s + settings.realtime.resume_grace_s
    # With Redis, sessions (state and accepted audio) outlive their node: any node can
    # continue them. Kept past any session's life, in case no node ever ends one. Without
    # Redis they outlive the process on this node's disk, and its learners resume them
    # after a restart.
    store: SessionStore
    handoff: HandoffChannel | None = None
    kept: list[uuid.UUID] = []
    if state.redis is not None:
        keys = Keys(settings.redis.key_prefix)
        store = RedisSessionStore(state.redis, keys=keys, ttl_s=int(lifetime) + 60)
        # A learner who reconnects to another node takes the session along from here.
        handoff = HandoffChannel(redis=state.redis, keys=keys, node_id=state.node_id)
    else:
        disk = DiskSessionStore(data_dir / "live-sessions")
        resources.callback(disk.close)
        leftovers = Leftovers(
            store=disk, recorder=recorder, grace_s=settings.realtime.resume_grace_s
        )
        kept = await leftovers.open()
        resources.push_async_callback(leftovers.aclose)
        store = disk

    # Sessions older than any session can live were left by a node that died: fail them so
    # history never shows them as in progress forever. A session another node continues
    # keeps its original start and length limit, so a live one is never that old. Without
    # Redis no other node can hold a session: every live one is this node's, from before
    # its restart; those not on its disk (never made durable) are failed now.
    older_than = timedelta(seconds=lifetime + 60) if state.redis is not None else timedelta(0)
    async with state.sessions.begin() as db:
        stale = await practice.fail_stale(db, older_than=older_than, keep=kept)
    if stale:
        log.warning("marked %d abandoned sessions as failed", stale)

    engine = WhisperEngine(settings.speech)
    if settings.realtime.preload_model:
        await engine.load()
    # The LLM client (and in offline mode the local llama.cpp server) lives on this loop and
    # is closed by the service's close(), after its sessions' feedback tasks are cancelled.
    stage = await resources.enter_async_context(
        open_stage(settings.llm, on_result=state.metrics.observe_llm)
    )
    state.analyser = TextAnalyser(settings.llm, stage.client)
    if stage.enabled:
        log.info(
            "LLM feedback from %s", settings.llm.base_url or settings.llm.local_gguf or "OpenAI"
        )
    service = PracticeService(
        settings=settings.realtime,
        engine=engine,
        recorder=recorder,
        exercises=exercises,
        authenticate=socket_authenticator(state.tokens, state.accounts),
        throttle=state.throttle,
        limits=settings.limits,
        interim_interval_s=settings.speech.interim_interval_ms / 1000,
        feedback=stage,
        feedback_store=recorder,
        on_close=resources.aclose,
        store=store,
        node_id=state.node_id,
        events=state.hub,
        handoff=handoff,
    )
    service.recheck_s = max(1.0, settings.auth.account_check_s)
    await service.open()
    return service
