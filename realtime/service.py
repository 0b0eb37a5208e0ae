"""The practice service of a node: starts and resumes sessions, owns the live ones."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from realtime.durable import DurableLog
from realtime.handoff import HandoffChannel
from realtime.limit_settings import LimitSettings
from realtime.load_gauge import LagGauge
from realtime.ports import (
    Client,
    FeedbackStore,
    Recorder,
    SessionEvents,
    SpeechEngine,
)
from realtime.protocol import AudioFormat, CloseCode, Resume, Start
from realtime.registry import SessionRegistry
from realtime.session import PracticeSession
from realtime.session_state import DURABLE_FLUSH_S
from realtime.session_store import SessionState, SessionStore, StoredSession, token_digest
from realtime.settings import RealtimeSettings
from realtime.throttle import Throttle, parse_limit
from speech.ports import FeedbackStage
from storage.access import Principal
from storage.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    ParleyError,
    TooManyRequests,
    Unauthenticated,
)
from storage.practice import ExerciseInfo

log = logging.getLogger("parley.practice")

# A store that does not answer within this is treated as unreachable (start and resume
# must not hang on it).
STORE_TIMEOUT_S = 2.0
# How long a resume waits for the live holder of a session to hand it over: its flush
# (DURABLE_FLUSH_S) and release, with room for two round trips.
HANDOFF_WAIT_S = 3.0

ExerciseLookup = Callable[[uuid.UUID, Principal], Awaitable[ExerciseInfo]]


# The caller a token names, as their account stands now (raises Unauthenticated); with
# `expired_ok`, a token past its expiry still names its caller (re-checks of open sockets).
# The caller a token names, as their account stands now: `(token, *, expired_ok=False)`,
# `expired_ok` for the re-checks of a socket already open.
Authenticate = Callable[..., Awaitable[Principal]]


class LoadableEngine(SpeechEngine, Protocol):
    async def load(self) -> None: ...

    def close(self) -> None: ...


class PracticeService:
    def __init__(
        self,
        *,
        settings: RealtimeSettings,
        engine: LoadableEngine,
        recorder: Recorder,
        exercises: ExerciseLookup,
        authenticate: Authenticate,
        interim_interval_s: float,
        feedback: FeedbackStage | None = None,
        feedback_store: FeedbackStore | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        store: SessionStore | None = None,
        node_id: str = "local",
        events: SessionEvents | None = None,
        handoff: HandoffChannel | None = None,
        throttle: Throttle | None = None,
        limits: LimitSettings | None = None,
    ) -> None:
        """`feedback`: the stage run after each final (None: no `feedback` messages);
        `on_close`: releases what the caller built for the service (the LLM client), after
        the sessions' background work is cancelled; `store`: where sessions outlive this
        node (None: in memory, resumable on this node only); `handoff`: how this node asks
        others for the sessions they hold, and answers them (None: it does neither); started
        by `open` and closed by `close`."""
        self._store = store
        self.node_id = node_id
        self.settings = settings
        self.engine = engine
        self.authenticate = authenticate
        self.limits = limits or LimitSettings(enabled=False)
        self._throttle = throttle
        # How often an open socket's account is read again (its cache holds it that long).
        self.recheck_s = 5.0
        self.load = LagGauge(settings.admission_lag_ms)
        self.registry = SessionRegistry(
            settings.max_sessions_per_user, settings.max_sessions_per_node, busy=self.load
        )
        self._recorder = recorder
        self._exercises = exercises
        self._interval_s = interim_interval_s
        self._feedback = feedback
        self._feedback_store = feedback_store
        self._on_close = on_close
        self.events = events  # observers' feed of every session (None: not observed)
        self._handoff = handoff
        if handoff is not None:
            handoff.bind(self._hand_over)

    async def open(self) -> None:
        """Start answering other nodes' hand-off requests."""
        if self._handoff is not None:
            await self._handoff.start()

    async def admit(self, who: Principal, address: str) -> None:
        """A new socket of `who` from `address`: TooManyRequests past the connect limits."""
        await self._limit("ws-connect-user", self.limits.ws_connect_per_user, str(who.user_id))
        await self._limit("ws-connect-address", self.limits.ws_connect_per_address, address)

    async def _limit(self, rule: str, limit: str, key: str) -> None:
        if self._throttle is None or not self.limits.enabled:
            return
        refusal = await self._throttle.hit(rule, parse_limit(limit), key)
        if refusal is not None:
            raise TooManyRequests(
                f"too many requests ({rule}); retry in {refusal.retry_after_s} s",
                code="rate_limited",
                retry_after_s=refusal.retry_after_s,
            )

    async def start(self, message: Start, who: Principal, client: Client) -> PracticeSession:
        if message.resume is not None:
            # Not counted: a resume follows a network blip, and must not be refused for it.
            return await self._resume(message.resume, who, client)
        await self._limit("session-start", self.limits.session_start_per_user, str(who.user_id))
        if message.exercise_id is None:
            raise InvalidInput("start needs an exercise_id", code="bad_message")
        self.registry.check_room(who.user_id)
        exercise = await self._exercises(message.exercise_id, who)
        await self.engine.load()
        session = PracticeSession(
            learner_id=who.user_id,
            exercise=exercise,
            audio_format=message.audio,
            interim=message.interim,
            engine=self.engine,
            recorder=self._recorder,
            settings=self.settings,
            interim_interval_s=self._interval_s,
            on_end=self.registry.remove,
            feedback=self._feedback,
            feedback_store=self._feedback_store,
            events=self.events,
            on_lag=self.load.record,
        )
        # Registered before the first await below, so concurrent starts see it in the limit.
        self.registry.check_room(who.user_id)
        self.registry.add(session)
        try:
            await self._recorder.started(
                session.id, who.user_id, exercise, message.audio.sample_rate
            )
        except BaseException:
            self.registry.remove(session)
            raise
        await self._make_durable(session)
        session.begin(client)
        log.info("session %s started by %s", session.id, who.user_id)
        return session

    def _owner(self) -> str:
        """A lease holder: this node, and one session instance on it."""
        return f"{self.node_id}/{uuid.uuid4().hex[:12]}"

    @property
    def _lease_ms(self) -> int:
        return int(self.settings.lease_ttl_s * 1000)

    async def _make_durable(self, session: PracticeSession) -> None:
        """Write the new session to the store; without a store it stays memory-only, as it
        does (logged) when the store is unreachable."""
        if self._store is None:
            return
        state = SessionState(
            session_id=session.id,
            learner_id=session.learner_id,
            exercise=session.exercise,
            sample_rate=session.audio_format.sample_rate,
            interim=session.interim,
            token_digest=token_digest(session.resume_token),
            started_at=time.time(),
            node=self.node_id,
        )
        owner = self._owner()
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                await self._store.create(state, owner, self._lease_ms)
        except Exception as exc:
            log.warning("session %s is not durable (session store: %r)", session.id, exc)
            # In case the write landed after all: no other node may take this session over.
            with contextlib.suppress(Exception):
                async with asyncio.timeout(STORE_TIMEOUT_S):
                    await self._store.delete(session.id, owner)
            return
        session.durable = DurableLog(
            store=self._store, session_id=session.id, owner=owner, lease_ms=self._lease_ms
        )

    async def _resume(self, resume: Resume, who: Principal, client: Client) -> PracticeSession:
        try:
            session = self.registry.resume(resume.session_id, resume.token, who.user_id)
        except NotFound:
            if self._store is None:
                raise
            return await self._take_over(resume, who, client)
        if session.durable is not None:
            # The ack's offset is exact for this node; give queued audio a moment to become
            # durable so that it is also what another node would hold.
            await session.durable.flush(DURABLE_FLUSH_S)
        previous = session.attach(client, resumed=True)
        if previous is not None and previous is not client:
            previous.close(CloseCode.CONFLICT, "the session was resumed elsewhere")
        return session

    async def _load(self, session_id: uuid.UUID) -> StoredSession | None:
        assert self._store is not None
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                return await self._store.load(session_id)
        except Exception as exc:
            log.warning("loading session %s from the store failed: %r", session_id, exc)
            raise _unavailable() from exc

    async def _take_over(self, resume: Resume, who: Principal, client: Client) -> PracticeSession:
        """Continue a session another node started (and lost): claim its lease, rebuild it
        from the store, replay its durable audio."""
        assert self._store is not None
        stored = await self._load(resume.session_id)
        if stored is None or stored.state.learner_id != who.user_id:
            raise NotFound("no resumable session with this id", code="not_resumable")
        if not stored.state.token_matches(resume.token):
            raise Unauthenticated("wrong resume token", code="bad_resume_token")
        self.registry.check_room(who.user_id)
        owner = self._owner()
        claimed = await self._claim(resume.session_id, owner)
        if not claimed and await self._ask_holder(resume.session_id):
            claimed = await self._claim(resume.session_id, owner)
        if not claimed:
            raise Conflict(
                f"the session is still held by a node; retry in {self.settings.lease_ttl_s:g} s",
                code="session_busy",
            )
        # Read again under the lease: nothing can be appended any more but by this owner.
        stored = await self._load(resume.session_id)
        if stored is None:
            raise NotFound("no resumable session with this id", code="not_resumable")
        # The stored record decides: a session that ended (e.g. abandoned by a node that was
        # cut off from Redis) is not brought back. A database failure propagates (`internal`)
        # and the lease lapses for a retry.
        if not await self._recorder.moved(resume.session_id):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(STORE_TIMEOUT_S):
                    await self._store.delete(resume.session_id, owner)
            raise NotFound("the session has ended", code="not_resumable")
        state = stored.state
        await self.engine.load()
        session = PracticeSession(
            learner_id=state.learner_id,
            exercise=state.exercise,
            audio_format=AudioFormat(sample_rate=state.sample_rate),
            interim=state.interim,
            engine=self.engine,
            recorder=self._recorder,
            settings=self.settings,
            interim_interval_s=self._interval_s,
            on_end=self.registry.remove,
            feedback=self._feedback,
            feedback_store=self._feedback_store,
            events=self.events,
            on_lag=self.load.record,
            durable=DurableLog(
                store=self._store,
                session_id=state.session_id,
                owner=owner,
                lease_ms=self._lease_ms,
                durable_bytes=len(stored.audio),
            ),
            session_id=state.session_id,
            resume_token=resume.token,
        )
        session.replay(stored.audio)
        self.registry.add(session)
        remaining_s = state.started_at + self.settings.max_session_s - time.time()
        session.begin(client, resumed=True, remaining_s=remaining_s)
        if stored.stopped:
            session.stop()  # the client had asked for the final, and all its audio is here
        log.info("session %s continues here (from node %s)", session.id, state.node)
        return session

    async def _claim(self, session_id: uuid.UUID, owner: str) -> bool:
        assert self._store is not None
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                return await self._store.claim(session_id, owner, self._lease_ms)
        except Exception as exc:
            log.warning("claiming session %s failed: %r", session_id, exc)
            raise _unavailable() from exc

    async def _ask_holder(self, session_id: uuid.UUID) -> bool:
        """The learner resumed here while a live node holds the session (the newest
        connection wins, as on one node): ask that node to hand it over. True when the
        lease is free to claim."""
        assert self._store is not None
        if self._handoff is None:
            return False
        try:
            async with asyncio.timeout(STORE_TIMEOUT_S):
                holder = await self._store.holder(session_id)
        except Exception as exc:
            log.warning("reading the lease of session %s failed: %r", session_id, exc)
            return False
        if holder is None:
            return True  # lapsed or released meanwhile
        node = holder.rpartition("/")[0]
        if node == self.node_id:
            return False  # its instance here is ending (or being taken over just now)
        return await self._handoff.request(node, session_id, HANDOFF_WAIT_S)

    async def _hand_over(self, session_id: uuid.UUID) -> bool:
        """Another node asks for a session this node runs (the learner resumed there)."""
        session = next((s for s in self.registry if s.id == session_id), None)
        if session is None:
            return False
        return await session.hand_over(DURABLE_FLUSH_S)

    async def close(self) -> None:
        # First: a session this node shuts down is not handed over half-closed; its lease
        # lapses and another node takes it over from the store.
        if self._handoff is not None:
            await self._handoff.aclose()
        for session in self.registry:
            await session.aclose()
        if self._on_close is not None:
            await self._on_close()
        self.engine.close()


def _unavailable() -> ParleyError:
    """This node cannot reach the session store now: not the client's fault, and worth a retry."""
    return ParleyError("the session store is unreachable; retry shortly", code="resume_unavailable")
