"""Rescoring one session for one job: stored audio in, a new evaluation version out.

The audio is read from the blob store, transcribed again with the job's model and scored by
the live evaluator (plus the LLM feedback stage when the job asks for it); the transcript,
the evaluation version and the job's `done` counter are written in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from speech.audio import load_wav_16k
from speech.errors import SpeechError, UnknownEvaluatorError
from speech.llm.client import open_stage
from speech.llm.local import local_result
from speech.llm.request import FeedbackRequest
from speech.llm.result import FeedbackResult
from speech.llm.settings import LlmSettings
from speech.ports import FeedbackStage
from speech.transcript import FinalTranscript
from storage import rescore_tasks
from storage.blobs import BlobNotFound, BlobStore
from storage.practice import Outcome, merge_feedback
from storage.rescore import FINISHED
from storage.rescore_tasks import Progress, Target
from workers.engines import Engines, transcribe
from workers.queue import Task

# Why a rescored open response was marked locally: the job did not ask for the LLM.
NOT_REQUESTED = "not_requested"

log = logging.getLogger("parley.workers")


class TaskFailed(Exception):
    """This attempt failed for a reason worth showing on the job (`str(exc)`)."""


class Result(enum.StrEnum):
    DONE = "done"  # a new version was stored
    ALREADY = "already"  # a previous delivery had stored it
    SKIPPED = "skipped"  # the job was cancelled or is gone
    FAILED = "failed"  # failed for good, recorded on the job


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    result: Result
    course_id: uuid.UUID | None = None
    progress: Progress | None = None


class Rescorer:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        blobs: BlobStore,
        engines: Engines,
        feedback: FeedbackStage | None = None,
    ) -> None:
        self._sessions = sessions
        self._blobs = blobs
        self._engines = engines
        self._feedback = feedback

    async def run(self, task: Task) -> TaskOutcome:
        async with self._sessions() as db:
            state = await rescore_tasks.job_status(db, task.job_id)
            target = await rescore_tasks.target(db, task.session_id)
        if state is None or state[0] in FINISHED:
            return TaskOutcome(Result.SKIPPED)
        options = state[1]
        if target is None:
            raise TaskFailed("the session no longer exists")
        async with self._sessions.begin() as db:
            await rescore_tasks.mark_started(db, task.job_id)
            if await rescore_tasks.has_version(db, task.job_id, task.session_id):
                return TaskOutcome(Result.ALREADY, target.course_id)
        outcome = await self._evaluate(target, options)
        try:
            async with self._sessions.begin() as db:
                added = await rescore_tasks.add_version(
                    db,
                    job_id=task.job_id,
                    session_id=task.session_id,
                    outcome=outcome,
                    make_current=bool(options.get("make_current", True)),
                )
                progress = await rescore_tasks.count_done(db, task.job_id) if added else None
        except IntegrityError:
            # Another delivery of this task committed first: the constraint, not luck.
            async with self._sessions() as db:
                if await rescore_tasks.has_version(db, task.job_id, task.session_id):
                    return TaskOutcome(Result.ALREADY, target.course_id)
            raise
        if not added:
            return TaskOutcome(Result.ALREADY, target.course_id)
        return TaskOutcome(Result.DONE, target.course_id, progress)

    async def fail(self, task: Task, reason: str) -> TaskOutcome:
        """Record that the task failed for good."""
        async with self._sessions.begin() as db:
            progress = await rescore_tasks.record_failure(db, task.job_id, task.session_id, reason)
            target = await rescore_tasks.target(db, task.session_id)
        return TaskOutcome(Result.FAILED, None if target is None else target.course_id, progress)

    async def _evaluate(self, target: Target, options: dict[str, Any]) -> Outcome:
        if target.audio_key is None:
            raise TaskFailed("the session has no stored audio")
        try:
            data = await self._blobs.get(target.audio_key)
        except BlobNotFound as exc:
            raise TaskFailed(f"the stored audio {target.audio_key} is missing") from exc
        try:
            audio = await asyncio.to_thread(load_wav_16k, data)
        except SpeechError as exc:
            raise TaskFailed(f"the stored audio is unreadable: {exc}") from exc
        engine = await self._engines.get(options.get("model"))
        asked = options.get("evaluator")
        if asked is not None and asked not in engine.evaluator_versions:
            # A worker of another release: failing says so; scoring with its own version
            # would store what the job did not ask for.
            raise TaskFailed(str(UnknownEvaluatorError(asked, engine.evaluator_versions)))
        transcript = await transcribe(engine, audio)
        evaluation = await engine.evaluate(
            audio,
            transcript,
            reference_text=target.exercise.read_aloud_text,
            prompt=target.exercise.prompt,
            evaluator=asked,
        )
        request = FeedbackRequest.about(target.exercise, evaluation)
        if options.get("llm") and self._feedback is not None:
            result = await self._feedback.run(request)
            evaluation = merge_feedback(evaluation, result.stored())
        elif request.rubric is not None:
            # Re-marked against the current rubric even without the LLM: what Parley
            # measures itself is marked, the rest is said to be not assessed.
            evaluation = merge_feedback(evaluation, local_result(request, NOT_REQUESTED).stored())
        return _outcome(transcript, evaluation)


def _outcome(transcript: FinalTranscript, evaluation: dict[str, Any]) -> Outcome:
    """What a live session stores for its result, in the same shape."""
    evaluator = evaluation.get("evaluator", {})
    return Outcome(
        text=transcript.text,
        words=[w.to_dict() for w in transcript.words],
        model=transcript.model,
        evaluator_name=str(evaluator.get("name", "unknown")),
        evaluator_version=str(evaluator.get("version", "0")),
        scores=dict(evaluation.get("scores", {})),
        details=evaluation,
    )


class LazyFeedback:
    """The LLM feedback stage, opened on the first job that asks for it (in offline mode that
    starts a local LLM server, which most workers never need); `aclose()` releases it."""

    def __init__(self, settings: LlmSettings) -> None:
        self._settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._stage: FeedbackStage | None = None
        self._lock = asyncio.Lock()

    async def run(self, request: FeedbackRequest) -> FeedbackResult:
        async with self._lock:
            if self._stage is None:
                self._stage = await self._stack.enter_async_context(open_stage(self._settings))
        return await self._stage.run(request)

    async def aclose(self) -> None:
        await self._stack.aclose()
