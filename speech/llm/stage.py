"""The LLM feedback stage: one chat completion with structured output, bounded in time and
concurrency, retried on bad output, and answered locally whenever the LLM cannot answer.

Retry policy (the SDK's own retries are off, `max_retries=0`, so there is one policy):
invalid JSON, an answer that fails validation, a truncated answer (`finish_reason` "length")
and transient failures (connection errors, 408/409/429/5xx) are tried again up to
`max_retries` times; any other error falls back at once. All attempts, and the wait for a
free slot of the semaphore, share one deadline of `timeout_s`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import ValidationError

from speech.llm.local import local_result
from speech.llm.prompt import build_messages
from speech.llm.request import FeedbackRequest
from speech.llm.result import INVALID_OUTPUT, NOT_CONFIGURED, TIMEOUT, FeedbackResult
from speech.llm.rubric import feedback_model, mark
from speech.llm.schema import LlmFeedback, response_format
from speech.llm.settings import LlmSettings

log = logging.getLogger("parley.llm")

_TRANSIENT_STATUS = frozenset({408, 409, 429})
_BACKOFF_S = 0.25  # before repeating a request the endpoint failed, not for bad output


class _Failed(Exception):
    """An attempt that gives up on the LLM; `reason` is the FeedbackResult reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Usage:
    def __init__(self) -> None:
        self.prompt: int | None = None
        self.completion: int | None = None
        self.attempts = 0

    def add(self, completion: ChatCompletion) -> None:
        if completion.usage is not None:
            self.prompt = (self.prompt or 0) + completion.usage.prompt_tokens
            self.completion = (self.completion or 0) + completion.usage.completion_tokens


class FeedbackStage:
    """Feedback on one evaluated attempt, from the LLM or locally; `run` never raises.

    `client` is None when no endpoint is configured (every answer is then local). The
    caller owns the client and closes it. `on_result` sees every result (metrics).
    """

    def __init__(
        self,
        settings: LlmSettings,
        *,
        client: AsyncOpenAI | None,
        on_result: Callable[[FeedbackResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        self._on_result = on_result
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._format = response_format(bounds=settings.schema_bounds)

    @property
    def enabled(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> AsyncOpenAI | None:
        """The SDK client, for other requests to the same endpoint (`speech.explain`)."""
        return self._client

    async def run(self, request: FeedbackRequest) -> FeedbackResult:
        started = time.perf_counter()
        usage = _Usage()
        if self._client is None:
            result = local_result(request, NOT_CONFIGURED)
        else:
            try:
                result = await self._ask(self._client, request, usage, started)
            except _Failed as failed:
                result = self._fallback(request, failed.reason, usage, started)
            except Exception as exc:  # a bug here must still leave the learner with feedback
                log.exception("LLM feedback stage failed")
                result = self._fallback(request, f"error: {type(exc).__name__}", usage, started)
        if self._on_result is not None:
            self._on_result(result)
        return result

    async def _ask(
        self, client: AsyncOpenAI, request: FeedbackRequest, usage: _Usage, started: float
    ) -> FeedbackResult:
        messages = build_messages(request)
        shape, answer_format = LlmFeedback, self._format
        if request.rubric is not None:
            shape = feedback_model(request.rubric)
            answer_format = response_format(bounds=self.settings.schema_bounds, model=shape)
        try:
            async with asyncio.timeout(self.settings.timeout_s), self._slots:
                feedback, model = await self._attempts(
                    client, messages, usage, answer_format, shape
                )
        except TimeoutError:
            raise _Failed(TIMEOUT) from None
        rubric_result = None
        if request.rubric is not None:
            # The marks go into the rubric's result; the feedback keeps the common shape.
            answer = feedback.model_dump(mode="json")
            feedback = LlmFeedback.model_validate({**answer, "rubric": None})
            rubric_result = mark(
                request.rubric,
                request.evaluation,
                time_limit_s=request.time_limit_s,
                llm=answer["rubric"],
            )
        return FeedbackResult(
            rubric_result=rubric_result,
            source="llm",
            reason=None,
            feedback=feedback,
            model=model,
            latency_ms=_ms_since(started),
            prompt_tokens=usage.prompt,
            completion_tokens=usage.completion,
            attempts=usage.attempts,
        )

    async def _attempts(
        self,
        client: AsyncOpenAI,
        messages: list[ChatCompletionMessageParam],
        usage: _Usage,
        answer_format: ResponseFormatJSONSchema,
        shape: type[LlmFeedback],
    ) -> tuple[LlmFeedback, str]:
        reason = INVALID_OUTPUT
        for attempt in range(self.settings.max_retries + 1):
            usage.attempts += 1
            try:
                completion = await client.chat.completions.create(
                    model=self.settings.model,
                    messages=messages,
                    response_format=answer_format,
                    max_tokens=self.settings.max_tokens,
                    temperature=self.settings.temperature,
                )
            except openai.APITimeoutError:
                raise _Failed(TIMEOUT) from None
            except (openai.APIConnectionError, openai.APIStatusError) as exc:
                reason = _describe(exc)
                if not _transient(exc):
                    raise _Failed(reason) from None
                log.warning("LLM attempt %d failed: %s", attempt + 1, reason)
                if attempt < self.settings.max_retries:
                    await asyncio.sleep(_BACKOFF_S)
                continue
            usage.add(completion)
            parsed = _parse(completion, shape)
            if parsed is not None:
                return parsed, completion.model or self.settings.model
            reason = INVALID_OUTPUT
        raise _Failed(reason)

    def _fallback(
        self, request: FeedbackRequest, reason: str, usage: _Usage, started: float
    ) -> FeedbackResult:
        log.info("LLM feedback fell back to local feedback: %s", reason)
        return local_result(
            request,
            reason,
            latency_ms=_ms_since(started),
            prompt_tokens=usage.prompt,
            completion_tokens=usage.completion,
            attempts=usage.attempts,
        )


def _parse(completion: ChatCompletion, shape: type[LlmFeedback]) -> LlmFeedback | None:
    """The validated feedback, or None for a truncated, empty or invalid answer."""
    if not completion.choices:
        return None
    choice = completion.choices[0]
    if choice.finish_reason == "length":
        log.warning("LLM answer truncated at max_tokens")
        return None
    try:
        return shape.model_validate_json(choice.message.content or "")
    except ValidationError as exc:
        log.warning("LLM answer invalid: %s", exc.errors(include_url=False)[:3])
        return None


def _transient(exc: openai.APIConnectionError | openai.APIStatusError) -> bool:
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in _TRANSIENT_STATUS or exc.status_code >= 500
    return True


def _describe(exc: openai.APIConnectionError | openai.APIStatusError) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"error: HTTP {exc.status_code}"
    return "error: connection failed"


def _ms_since(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
