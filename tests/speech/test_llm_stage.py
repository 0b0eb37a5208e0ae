"""The feedback stage over the real openai SDK with an in-process mock transport: the wire
shape, retries, truncation, invalid output, HTTP errors, timeouts and the fallback."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx2
import pytest

from speech.llm.client import open_stage
from speech.llm.result import FeedbackResult
from speech.llm.schema import SCHEMA_NAME, feedback_schema
from speech.llm.settings import LlmSettings
from speech.llm.stage import FeedbackStage
from tests.speech.llm_server import (
    TRANSCRIPT,
    Handler,
    completion,
    mock_client,
    read_aloud_request,
    valid_feedback,
)

LIMIT_S = 5.0


def stage_for(handler: Handler, **settings: Any) -> tuple[FeedbackStage, list[FeedbackResult]]:
    seen: list[FeedbackResult] = []
    config = LlmSettings(base_url="http://llm.test/v1", model="mock-model", **settings)
    return FeedbackStage(config, client=mock_client(handler), on_result=seen.append), seen


def replies(*responses: httpx2.Response) -> tuple[Handler, list[dict[str, Any]]]:
    """A handler answering with `responses` in turn; it records each request body."""
    bodies: list[dict[str, Any]] = []
    queue = list(responses)

    async def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        return queue.pop(0)

    return handler, bodies


async def run(stage: FeedbackStage) -> FeedbackResult:
    async with asyncio.timeout(LIMIT_S):
        return await stage.run(read_aloud_request())


async def test_request_wire_shape() -> None:
    seen: list[httpx2.Request] = []

    async def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return completion(valid_feedback())

    stage, _ = stage_for(handler, max_tokens=256, temperature=0.0)
    await run(stage)
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    body = json.loads(request.content)
    assert body["model"] == "mock-model"
    assert body["max_tokens"] == 256 and body["temperature"] == 0.0
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": SCHEMA_NAME, "schema": feedback_schema(), "strict": True},
    }
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert TRANSCRIPT in user["content"]
    assert "“your” sounded like “you”" in user["content"]


async def test_valid_answer_is_llm_feedback_with_usage() -> None:
    handler, _ = replies(completion(valid_feedback(), model="served-model"))
    stage, seen = stage_for(handler)
    result = await run(stage)
    assert result.source == "llm" and result.reason is None
    assert result.model == "served-model"
    assert result.feedback.corrections[0].suggestion == "your"
    assert (result.prompt_tokens, result.completion_tokens, result.attempts) == (120, 40, 1)
    assert seen == [result]


@pytest.mark.parametrize(
    "bad",
    [
        completion("{not json"),
        completion(valid_feedback(summary="x" * 401)),  # over a bound
        completion(valid_feedback(extra="field")),  # not in the schema
        completion(json.dumps(valid_feedback())[:80], finish="length"),  # truncated
    ],
    ids=["invalid-json", "too-long", "extra-field", "truncated"],
)
async def test_bad_output_is_retried_once(bad: httpx2.Response) -> None:
    handler, bodies = replies(bad, completion(valid_feedback()))
    stage, _ = stage_for(handler)
    result = await run(stage)
    assert result.source == "llm" and result.attempts == 2
    assert (result.prompt_tokens, result.completion_tokens) == (240, 80)  # both attempts
    assert bodies[0] == bodies[1]


async def test_bad_output_twice_falls_back_to_local_feedback() -> None:
    handler, bodies = replies(completion("nope"), completion("{}", finish="length"))
    stage, seen = stage_for(handler)
    result = await run(stage)
    assert (result.source, result.reason, result.attempts) == ("local", "invalid_output", 2)
    assert result.model is None and len(bodies) == 2
    assert result.feedback.pronunciation_tips  # the local evaluator's advice
    assert result.prompt_tokens == 240  # paid for, even though unused
    assert seen == [result]


async def test_server_error_is_retried_then_falls_back() -> None:
    handler, bodies = replies(httpx2.Response(500), httpx2.Response(503))
    stage, _ = stage_for(handler)
    result = await run(stage)
    assert (result.source, result.reason, result.attempts) == ("local", "error: HTTP 503", 2)
    assert len(bodies) == 2


async def test_server_error_then_success() -> None:
    handler, _ = replies(httpx2.Response(502), completion(valid_feedback()))
    stage, _ = stage_for(handler)
    assert (await run(stage)).source == "llm"


async def test_client_error_is_not_retried() -> None:
    handler, bodies = replies(httpx2.Response(400, json={"error": {"message": "bad schema"}}))
    stage, _ = stage_for(handler)
    result = await run(stage)
    assert (result.source, result.reason, len(bodies)) == ("local", "error: HTTP 400", 1)


async def test_no_retries_when_max_retries_is_zero() -> None:
    handler, bodies = replies(completion("nope"))
    stage, _ = stage_for(handler, max_retries=0)
    assert (await run(stage)).reason == "invalid_output" and len(bodies) == 1


async def test_slow_endpoint_times_out_to_local_feedback() -> None:
    never = asyncio.Event()

    async def handler(request: httpx2.Request) -> httpx2.Response:
        await never.wait()  # cancelled by the stage's deadline
        raise AssertionError("unreachable")

    stage, _ = stage_for(handler, timeout_s=0.2)
    started = time.perf_counter()
    result = await run(stage)
    assert (result.source, result.reason) == ("local", "timeout")
    assert time.perf_counter() - started < 2.0
    assert 150 <= result.latency_ms < 2000


async def test_concurrency_is_bounded() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()
    in_flight = peak = 0

    async def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 2:
            entered.set()
        await release.wait()
        in_flight -= 1
        return completion(valid_feedback())

    stage, _ = stage_for(handler, concurrency=2)
    runs = [asyncio.create_task(run(stage)) for _ in range(5)]
    async with asyncio.timeout(LIMIT_S):
        await entered.wait()  # two in flight; the other three must be queued
    release.set()
    results = await asyncio.gather(*runs)
    assert [r.source for r in results] == ["llm"] * 5
    assert peak == 2


async def test_waiting_for_a_slot_counts_against_the_deadline() -> None:
    never = asyncio.Event()
    entered = asyncio.Event()

    async def handler(request: httpx2.Request) -> httpx2.Response:
        entered.set()
        await never.wait()
        raise AssertionError("unreachable")

    stage, _ = stage_for(handler, concurrency=1, timeout_s=0.3)
    first = asyncio.create_task(run(stage))
    async with asyncio.timeout(LIMIT_S):
        await entered.wait()
    started = time.perf_counter()
    second = await run(stage)  # queued behind the first, then (maybe) a short attempt
    assert (second.source, second.reason) == ("local", "timeout")
    assert time.perf_counter() - started < 0.3 + 0.5
    assert (await first).reason == "timeout"


async def test_not_configured_answers_locally_without_a_request() -> None:
    seen: list[FeedbackResult] = []
    async with open_stage(LlmSettings(), on_result=seen.append) as stage:
        assert not stage.enabled
        result = await stage.run(read_aloud_request())
    assert (result.source, result.reason, result.attempts) == ("local", "not_configured", 0)
    assert seen == [result]


async def test_configured_stage_owns_a_client_for_the_base_url() -> None:
    settings = LlmSettings(base_url="http://127.0.0.1:9/v1", timeout_s=2.0, max_retries=0)
    async with open_stage(settings) as stage:
        assert stage.enabled
        # Nothing listens on the discard port: a connection error, answered locally.
        result = await stage.run(read_aloud_request())
    assert (result.source, result.reason) == ("local", "error: connection failed")
