"""A live practice session: audio in, interim transcripts out, then one final result.

    STREAMING --stop / limit--> FINALIZING --> DONE
        |  \\--cancel--> CANCELLED
        \\--client gone past the grace period--> ABANDONED

The session outlives its connection: a dropped client may re-attach (resume) within the
grace period and continue, or collect the final result that was computed meanwhile.

With a feedback stage, a DONE session then asks it for feedback in the background: `final`
never waits for an LLM. The result is stored (also when the client is gone) and sent as
`feedback`; the session stays registered until then, so shutdown finds and cancels the
task and a client resuming meanwhile still gets the message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from realtime import log_context
from realtime.durable import DurableLog
from realtime.observe_protocol import EventMessage, SessionEnded, SessionStarted
from realtime.ports import (
    Client,
    FeedbackStore,
    Recorder,
    SessionEvents,
    SessionMeta,
    SpeechEngine,
)
from realtime.protocol import (
    Ack,
    AudioFormat,
    AudioReceived,
    CloseCode,
    Error,
    Feedback,
    Final,
    InterimTranscript,
    Limits,
    Processing,
    ServerMessage,
    WordTiming,
)
from realtime.receipts import Receipts
from realtime.session_feedback import collect_feedback
from realtime.session_state import DURABLE_FLUSH_S, LIVE, State
from realtime.settings import RealtimeSettings
from speech.audio import PcmDecoder
from speech.ports import FeedbackStage
from speech.transcript import Interim
from storage.models import SessionStatus
from storage.practice import ExerciseInfo

SAVED_LATER = (
    "the database is unavailable: your result is kept and will appear in your history "
    "when it is back"
)

log = logging.getLogger("parley.session")


class PracticeSession:
    def __init__(
        self,
        *,
        learner_id: uuid.UUID,
        exercise: ExerciseInfo,
        audio_format: AudioFormat,
        interim: bool,
        engine: SpeechEngine,
        recorder: Recorder,
        settings: RealtimeSettings,
        interim_interval_s: float,
        on_end: Callable[[PracticeSession], None],
        feedback: FeedbackStage | None = None,
        feedback_store: FeedbackStore | None = None,
        durable: DurableLog | None = None,
        session_id: uuid.UUID | None = None,
        resume_token: str | None = None,
        events: SessionEvents | None = None,
        on_lag: Callable[[int], None] | None = None,
    ) -> None:
        """`feedback` off (None): no `feedback` message; `feedback_store` None: not stored.
        `durable`: where accepted audio outlives the node (None: memory only).
        `session_id`/`resume_token`: kept by a session continued from another node.
        `on_lag(ms)`: after each interim pass, how far it trails the audio received."""
        self.id = session_id or uuid.uuid4()
        # Made in the connection's task: its lines, and the session's tasks, log this id.
        log_context.set_session(self.id)
        self.learner_id = learner_id
        self.exercise = exercise
        self.audio_format = audio_format
        self.interim = interim
        self.resume_token = resume_token or secrets.token_urlsafe(24)
        self.durable = durable
        self._events = events  # observers' feed (None: not observed)
        self._on_lag = on_lag
        self.state = State.STREAMING
        self.received_bytes = 0
        self._engine = engine
        self._recorder = recorder
        self._settings = settings
        self._interval_s = interim_interval_s
        self._on_end = on_end
        self._decoder = PcmDecoder(audio_format.sample_rate)
        self._transcriber = engine.transcriber()
        limit_s = min(settings.max_audio_s, exercise.time_limit_s or math.inf)
        self.max_audio_bytes = int(limit_s * audio_format.sample_rate) * 2
        self._client: Client | None = None
        self._wake = asyncio.Event()
        self._halt = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: list[asyncio.TimerHandle] = []
        self._grace: asyncio.TimerHandle | None = None
        # What answered `stop` (a final, or the error that replaced it): replayed to a client
        # that resumes or repeats `stop`.
        self._outcome: Final | Error | None = None
        self._feedback_stage = feedback
        self._feedback_store = feedback_store
        self._feedback: Feedback | None = None
        self._feedback_pending = False
        self._receipts = Receipts(
            send=self.send,
            acked_bytes=lambda: self.acked_bytes,
            streaming=lambda: self.state is State.STREAMING,
            interval_s=settings.audio_received_interval_ms / 1000,
        )
        self.finished = asyncio.Event()
        # Set once nothing more will be sent: the final (or error), and feedback if due.
        self.delivered = asyncio.Event()

    @property
    def acked_bytes(self) -> int:
        """What `audio_received` may promise: durable bytes while the store keeps them,
        else what this node holds."""
        if self.durable is not None and self.durable.active:
            return min(self.durable.durable_bytes, self.received_bytes)
        return self.received_bytes

    # connection

    def limits(self) -> Limits:
        s = self._settings
        return Limits(
            max_frame_bytes=s.max_frame_bytes,
            max_audio_ms=self.max_audio_bytes * 500 // self.audio_format.sample_rate,
            max_session_ms=int(s.max_session_s * 1000),
            idle_timeout_ms=int(s.idle_timeout_s * 1000),
            resume_grace_ms=int(s.resume_grace_s * 1000),
        )

    def begin(
        self, client: Client, *, resumed: bool = False, remaining_s: float | None = None
    ) -> None:
        """Run the session; `remaining_s`: what is left of the session-length limit (a session
        continued from another node keeps its original start)."""
        loop = asyncio.get_running_loop()
        left = self._settings.max_session_s if remaining_s is None else max(remaining_s, 0.0)
        self._timers.append(loop.call_later(left, self._session_expired))
        if self.durable is not None:
            self.durable.start(on_lost=self._lost, on_progress=self._receipts.durable)
        started = datetime.now(UTC).isoformat()
        self._publish(SessionStarted(exercise_title=self.exercise.title, started_at=started))
        self._spawn(self._interim_loop())
        self.attach(client, resumed=resumed)

    def replay(self, data: bytes) -> None:
        """Feed audio this session accepted on another node (no messages are sent)."""
        self.received_bytes += len(data)
        self._transcriber.feed(self._decoder.feed(data))
        self._wake.set()

    def attach(self, client: Client, *, resumed: bool) -> Client | None:
        """Make `client` the session's connection; returns the one it replaces, if any."""
        previous, self._client = self._client, client
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        client.send(
            Ack(
                session_id=self.id,
                resume_token=self.resume_token,
                limits=self.limits(),
                resumed=resumed,
                received_bytes=self.received_bytes,
            )
        )
        self._resend()  # what was computed while the client was away
        return previous

    def detach(self, client: Client) -> None:
        if self._client is not client:
            return
        self._client = None
        if self.state in LIVE or self.state is State.DONE:
            # DONE sessions linger too, so a client that missed its final can collect it.
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(self._settings.resume_grace_s, self._grace_over)

    def send(self, message: ServerMessage) -> None:
        if self._client is not None:
            self._client.send(message)

    # input

    def audio(self, data: bytes) -> None:
        if self.state is not State.STREAMING:
            self.send(Error(code="not_streaming", message="the session no longer takes audio"))
            return
        room = self.max_audio_bytes - self.received_bytes
        accepted = data[:room]
        self.received_bytes += len(accepted)
        self._transcriber.feed(self._decoder.feed(accepted))
        self._wake.set()
        if self.durable is not None and self.durable.active:
            self.durable.append(accepted)  # reported by _receipts.durable once written
        else:
            self._receipts.received()
        if len(accepted) < len(data) or self.received_bytes >= self.max_audio_bytes:
            self.send(
                Error(
                    code="audio_limit",
                    message=f"audio limit of {self.limits().max_audio_ms} ms reached; finishing",
                )
            )
            self.stop()

    def stop(self) -> None:
        """Finalise; answered by `final` (or `error`), also when repeated."""
        if self.state is State.STREAMING:
            self.state = State.FINALIZING
            self._halt.set()
            self._wake.set()
            self._spawn(self._finalize())
        elif self.state is State.DONE and self._outcome is not None:
            self._resend()
        elif self.state is not State.FINALIZING:
            self.send(Error(code="not_streaming", message=f"the session is {self.state.value}"))

    def cancel(self) -> None:
        if self.state is State.STREAMING:
            self._end(State.CANCELLED, SessionStatus.CANCELLED, "cancelled by the learner")

    def revoke(self, reason: str) -> None:
        """The learner's access ended (account disabled, deleted or signed out everywhere):
        no more audio is taken; the session is recorded as failed, with what was said."""
        if self.state is State.STREAMING:
            self._end(State.CANCELLED, SessionStatus.FAILED, reason, keep_audio=True)

    # work

    async def _interim_loop(self) -> None:
        last: tuple[str, str] | None = None
        loop = asyncio.get_running_loop()
        while self.state is State.STREAMING:
            await self._wake.wait()
            self._wake.clear()
            if self.state is not State.STREAMING:
                return
            started = loop.time()
            try:
                interim: Interim | None = await self._transcriber.update()
            except Exception:
                # Skip this update: an empty interim would take back committed text.
                log.exception("interim pass failed in session %s", self.id)
                interim = None
            if self.state is not State.STREAMING:
                return
            if interim is not None and self._on_lag is not None:
                self._on_lag(self._transcriber.audio_ms - interim.audio_ms)
            if (
                interim is not None
                and self.interim
                and (interim.committed, interim.tentative) != last
            ):
                last = (interim.committed, interim.tentative)
                shown = InterimTranscript(
                    committed=interim.committed,
                    tentative=interim.tentative,
                    audio_ms=interim.audio_ms,
                )
                self.send(shown)
                self._publish(shown)
            # Pace passes, but let a stop interrupt the wait at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._halt.wait(),
                    self._interval_s * self._transcriber.pace - loop.time() + started,
                )

    async def _finalize(self) -> None:
        # Marked stopped only with all its audio durable: a node that continues the session
        # after this one died finishes it without waiting for audio the client won't resend.
        if self.durable is not None and await self.durable.flush(DURABLE_FLUSH_S):
            self.durable.stopped()
        self.send(AudioReceived(bytes=self.acked_bytes))
        self.send(Processing())
        self._transcriber.feed(self._decoder.flush())
        audio = self._transcriber.audio()
        try:
            transcript = await self._transcriber.finalize()
            evaluation = await self._engine.evaluate(
                audio,
                transcript,
                reference_text=self.exercise.read_aloud_text,
                prompt=self.exercise.prompt,
            )
            if self.state is not State.FINALIZING:
                return  # given up meanwhile: another node runs the session now
        except Exception as exc:
            if self.state is not State.FINALIZING:
                return  # given up meanwhile: the failure is not this node's to record
            log.exception("finalising session %s failed", self.id)
            self._outcome = Error(code="evaluation_failed", message=str(exc) or "evaluation failed")
            self.send(self._outcome)
            try:
                await self._recorder.ended(
                    self.id, SessionStatus.FAILED, f"evaluation: {exc}", audio
                )
            except Exception:
                log.exception("recording the failure of session %s failed", self.id)
            self._finish(State.DONE)
            return
        final = Final(
            session_id=self.id,
            transcript=transcript.text,
            words=[WordTiming(**w.to_dict()) for w in transcript.words],
            audio_ms=self._transcriber.audio_ms,
            evaluation=evaluation,
        )
        saved, stored_now = True, True
        try:
            stored_now = await self._recorder.completed(self.id, audio, transcript, evaluation)
        except Exception:
            log.exception("storing session %s failed", self.id)
            saved = False
        self._outcome = final
        self.send(final)
        self._publish(final)
        if not saved:
            self.send(Error(code="not_saved", message="the result could not be stored"))
        elif not stored_now:
            self.send(Error(code="saved_later", message=SAVED_LATER))
        if self._feedback_stage is not None:
            self._feedback_pending = True
            self._spawn(self._run_feedback(self._feedback_stage, evaluation, saved))
        self._finish(State.DONE)

    async def _run_feedback(
        self, stage: FeedbackStage, evaluation: dict[str, Any], saved: bool
    ) -> None:
        try:
            self._feedback = await collect_feedback(
                stage,
                self._feedback_store,
                session_id=self.id,
                exercise=self.exercise,
                evaluation=evaluation,
                saved=saved,
            )
            self.send(self._feedback)
            self._publish(self._feedback)
        except Exception:  # the stage never raises; this guards the session's own code
            log.exception("feedback for session %s failed", self.id)
        finally:
            self._feedback_pending = False
            self.delivered.set()
            self._publish(SessionEnded(state=self.state.value))
            self._release()

    def _resend(self) -> None:
        if self._outcome is not None:
            self.send(self._outcome)
        if self._feedback is not None:
            self.send(self._feedback)

    def _session_expired(self) -> None:
        if self.state is State.STREAMING:
            self.send(Error(code="session_limit", message="session time limit reached"))
            self.stop()

    def _grace_over(self) -> None:
        self._grace = None
        if self.state is State.STREAMING:
            self._end(State.ABANDONED, SessionStatus.FAILED, "connection lost", keep_audio=True)
        elif self.state is State.DONE:
            self._release()
        # FINALIZING: with the grace over, _finish releases the session when it is done.

    def _end(
        self, state: State, status: SessionStatus, reason: str, *, keep_audio: bool = False
    ) -> None:
        audio = self._transcriber.audio() if keep_audio else None
        self._finish(state)
        self._spawn(self._recorder.ended(self.id, status, reason, audio))

    def _finish(self, state: State, *, moved: bool = False) -> None:
        """`moved`: the session goes on on another node: nothing is deleted from the store,
        and observers are not told it ended (the new node announces it)."""
        self.state = state
        self._halt.set()
        self._wake.set()
        self._transcriber.close()
        self._receipts.cancel()
        for timer in self._timers:
            timer.cancel()
        if self.durable is not None:
            # Ended here: nothing is left to continue elsewhere, unless it moved.
            self._spawn(self.durable.close(delete=not moved))
        self.finished.set()
        if not self._feedback_pending:
            self.delivered.set()
        if moved:
            if self._events is not None:
                self._events.forget(self.id)
        elif not self._feedback_pending:  # else ended once the feedback is out
            self._publish(SessionEnded(state=state.value))
        self._release()

    def _lost(self) -> None:
        """Another node claimed the session (this node had lost it from sight): end here
        without recording anything; the new owner finishes and records it."""
        if self.state not in LIVE:
            return
        log.warning("session %s continues on another node; ending it here", self.id)
        self._move_away()

    async def hand_over(self, timeout_s: float) -> bool:
        """Another node continues the session, at its request (the learner resumed there):
        make every accepted byte durable, end here as `_lost` does, release the lease.
        False if the session is past streaming, or its audio is not durable within
        `timeout_s` (then nothing changes here); or if the release failed (the lease then
        lapses by its TTL, with all the audio in the store)."""
        durable = self.durable
        if durable is None:
            return False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.state is State.STREAMING and durable.active:
            # Checked and acted on with no await between: no byte is accepted un-durable.
            if durable.durable_bytes == self.received_bytes:
                log.info("session %s is handed over to another node", self.id)
                self._move_away()
                await durable.close(delete=False)
                return await durable.release()
            # Audio that arrives meanwhile is waited for, too.
            if not await durable.flush(deadline - loop.time()):
                return False
        return False

    def _move_away(self) -> None:
        client, self._client = self._client, None
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
        self._finish(State.ABANDONED, moved=True)
        if client is not None:
            client.close(CloseCode.CONFLICT, "the session was resumed elsewhere")

    def _release(self) -> None:
        """Leave the registry, unless the session still has something to deliver: pending
        feedback, or (DONE with its client away) results to collect until the grace ends."""
        if self.state in LIVE or self._feedback_pending:
            return
        if self.state is State.DONE and self._client is None and self._grace is not None:
            return
        self._on_end(self)

    def _publish(self, message: EventMessage) -> None:
        if self._events is None:
            return
        meta = SessionMeta(
            session_id=self.id,
            learner_id=self.learner_id,
            course_id=self.exercise.course_id,
            exercise_id=self.exercise.id,
            exercise_title=self.exercise.title,
        )
        try:
            self._events.publish(meta, message)
        except Exception:  # observers must never cost the learner their session
            log.exception("publishing an event of session %s failed", self.id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Stop background work (server shutdown). A durable session stays in the store: once
        its lease lapses, another node may continue it."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.durable is not None:
            await self.durable.close(delete=False)
