"""`POST /v1/text/analyse` answered by a real LLM: the app's own openai client against
xllamacpp serving SmolLM2-135M. The small model gets the structure right and the content
often wrong, so this checks the schema, the bounds, the cache and the fallback, never
the wording."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from rest.app import create_app
from speech.explain.schema import Explanation
from speech.llm.server import LocalLlamaServer
from speech.llm.settings import LlmSettings
from storage.migrate import upgrade
from storage.models import Role
from tests.rest.conftest import Api, cheap_passwords, make_settings
from tests.speech.llm_server import local_llm_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama() -> Iterator[LocalLlamaServer]:
    with local_llm_server() as server:
        yield server


def app_with(llama: LocalLlamaServer, url: str, tmp_path: Path, **llm: object) -> TestClient:
    upgrade(url)
    settings = make_settings(url, tmp_path)
    base = {
        "base_url": llama.base_url,
        "model": llama.model_name,
        "temperature": 0.0,
        "timeout_s": 120.0,
    }
    settings.llm = LlmSettings.model_validate(base | llm)
    return TestClient(create_app(settings, passwords=cheap_passwords()))


def test_the_llm_explains_and_the_answer_is_kept(
    llama: LocalLlamaServer, sqlite_url: str, tmp_path: Path
) -> None:
    with app_with(llama, sqlite_url, tmp_path) as client:
        api = Api(client)
        ann = api.account(Role.LEARNER)
        body = {"text": "I have been waiting since noon", "level": "B1"}
        answer = client.post("/v1/text/analyse", json=body, headers=ann.headers)
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert found["source"] == "llm" and found["reason"] is None
        assert found["model"] and found["cached"] is False
        Explanation.model_validate(found["explanation"])  # within every bound of the schema
        again = client.post("/v1/text/analyse", json=body, headers=ann.headers).json()
        assert again["cached"] is True and again["explanation"] == found["explanation"]
        saved = client.post(
            "/v1/resources", json={"analysis_id": found["analysis_id"]}, headers=ann.headers
        )
        assert saved.status_code == 201 and saved.json()["text"] == body["text"]


def test_an_llm_that_cannot_answer_leaves_the_dictionary_s_answer(
    llama: LocalLlamaServer, sqlite_url: str, tmp_path: Path
) -> None:
    # No answer comes within 10 ms: the learner gets Parley's own, with the reason.
    with app_with(llama, sqlite_url, tmp_path, timeout_s=0.01) as client:
        api = Api(client)
        ann = api.account(Role.LEARNER)
        found = client.post("/v1/text/analyse", json={"text": "ship"}, headers=ann.headers).json()
        assert found["source"] == "local" and found["reason"] == "timeout"
        assert found["explanation"]["definitions"] and found["model"] == "wordnet-3.0"
        # The fallback is not served from the cache in the LLM's place next time.
        again = client.post("/v1/text/analyse", json={"text": "ship"}, headers=ann.headers)
        assert again.json()["cached"] is False
