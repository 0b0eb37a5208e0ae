"""The real openai SDK against a real local model: xllamacpp serving SmolLM2-135M on
127.0.0.1, one server for this whole module (CI's budget). The 135M model gets the
structure right and the content often wrong, so these tests check schema, bounds and the
flow, never the wording. The end-to-end test runs a real `parley serve` child process
pointed at that server and follows a session from `final` to the stored feedback.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from speech.llm.client import open_stage
from speech.llm.schema import LlmFeedback
from speech.llm.server import LocalLlamaServer
from speech.llm.settings import BUNDLED_SMOLLM2, LlmSettings
from tests.realtime.client import JFK, World, build_world, learner, pcm
from tests.realtime.server import sqlite_server
from tests.speech.llm_server import local_llm_server, open_request, read_aloud_request
from tests.speech.rubric_sample import RUBRIC, rubric_request

pytestmark = pytest.mark.slow

# Greedy decoding: the same prompt gets the same answer, so these tests are repeatable.
# The default budget: room for the longest answer the bounds allow (SmolLM2 can use it all).
MAX_TOKENS = "1200"
TIMEOUT_S = "120"


@pytest.fixture(scope="module")
def llama() -> Iterator[LocalLlamaServer]:
    with local_llm_server() as server:
        yield server


def settings_for(server: LocalLlamaServer, **changes: object) -> LlmSettings:
    base = {
        "base_url": server.base_url,
        "model": server.model_name,
        "max_tokens": int(MAX_TOKENS),
        "temperature": 0.0,
        "timeout_s": float(TIMEOUT_S),
    }
    return LlmSettings.model_validate(base | changes)


def test_server_is_healthy_and_names_its_model(llama: LocalLlamaServer) -> None:
    assert llama.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{llama.url}/health").status_code == 200
    models = httpx.get(f"{llama.base_url}/models").json()
    assert llama.model_name in [m["id"] for m in models["data"]]


async def test_structured_feedback_from_a_real_model(llama: LocalLlamaServer) -> None:
    async with open_stage(settings_for(llama)) as stage:
        result = await stage.run(open_request())
    assert (result.source, result.reason) == ("llm", None), result
    assert result.model == llama.model_name
    assert result.prompt_tokens and result.completion_tokens
    assert 0 < result.completion_tokens <= int(MAX_TOKENS) * result.attempts
    # Every bound holds (the grammar enforced them; validation checks them again).
    LlmFeedback.model_validate(result.feedback.model_dump())


async def test_an_open_response_is_marked_against_its_rubric(llama: LocalLlamaServer) -> None:
    async with open_stage(settings_for(llama)) as stage:
        result = await stage.run(rubric_request())
    assert (result.source, result.reason) == ("llm", None), result
    marks = result.rubric_result
    assert marks is not None and marks["version"] == RUBRIC.version
    by_key = {c["key"]: c for c in marks["criteria"]}
    assert list(by_key) == [c.key for c in RUBRIC.criteria]
    for key in ("task", "grammar"):  # the model's, within the schema's bounds
        assert by_key[key]["source"] == "llm" and 0 <= by_key[key]["score"] <= 100
        assert 0 < len(by_key[key]["justification"]) <= 200
    assert (by_key["fluency"]["source"], by_key["fluency"]["score"]) == ("parley", 71)
    assert marks["weight_assessed"] == 100
    assert result.feedback.rubric is None  # the marks are in rubric_result only


async def test_truncated_answers_fall_back_after_one_retry(llama: LocalLlamaServer) -> None:
    async with open_stage(settings_for(llama, max_tokens=64)) as stage:
        result = await stage.run(read_aloud_request())
    assert (result.source, result.reason, result.attempts) == ("local", "invalid_output", 2)
    assert result.completion_tokens == 128  # both attempts ran to max_tokens
    assert result.feedback.pronunciation_tips  # the local feedback


async def test_offline_mode_serves_the_bundled_model_itself() -> None:
    settings = LlmSettings(local_gguf=BUNDLED_SMOLLM2, max_tokens=64, max_retries=0, timeout_s=60)
    async with open_stage(settings) as stage:
        assert stage.enabled
        result = await stage.run(read_aloud_request())
    # 64 tokens cannot hold an answer: what matters is that the request reached a model.
    assert result.prompt_tokens and result.completion_tokens == 64


@pytest.fixture(scope="module")
def world(llama: LocalLlamaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A real `parley serve` (child process, SQLite, Whisper) asking `llama` for feedback."""
    with sqlite_server(
        tmp_path_factory.mktemp("server"),
        PARLEY_LLM__BASE_URL=llama.base_url,
        PARLEY_LLM__MODEL=llama.model_name,
        PARLEY_LLM__MAX_TOKENS=MAX_TOKENS,
        PARLEY_LLM__TEMPERATURE="0",
        PARLEY_LLM__TIMEOUT_S=TIMEOUT_S,
        # Shorter than the LLM takes: a learner waiting for feedback is not idle.
        PARLEY_REALTIME__IDLE_TIMEOUT_S="1",
    ) as server:
        yield build_world(server)


async def test_session_final_then_llm_feedback_then_stored(
    llama: LocalLlamaServer, world: World
) -> None:
    token = world.learner()
    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=world.read_aloud)
        await client.until("ack")
        await client.stream(pcm(JFK), pace_s=0.005)
        await client.send(type="stop")
        final = await client.until("final")
        feedback = await client.until("feedback", limit_s=float(TIMEOUT_S) + 30)
    types = [m["type"] for m in client.messages]
    assert types.index("final") < types.index("feedback")
    # `final` carries the local evaluation as it always did: its tips, not the LLM's.
    assert isinstance(final["evaluation"]["feedback"], list)
    assert feedback["session_id"] == final["session_id"]
    assert (feedback["source"], feedback["reason"]) == ("llm", None), feedback
    assert feedback["model"] == llama.model_name
    LlmFeedback.model_validate(feedback["feedback"])

    url = f"{world.server.url}/v1/sessions/{final['session_id']}"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        detail = (await http.get(url)).json()
    details = detail["evaluation"]["details"]
    stored = details["feedback"]
    assert (stored["source"], stored["model"]) == ("llm", llama.model_name)
    assert stored["prompt_tokens"] > 0 and stored["latency_ms"] > 0
    assert stored["summary"] == feedback["feedback"]["summary"]
    assert details["local_feedback"] == final["evaluation"]["feedback"]
    assert details["scores"] == final["evaluation"]["scores"]
