"""An open-response session through the practice websocket, marked against its exercise's
rubric by the real local LLM (SmolLM2 via llama.cpp) behind a real `parley serve` child:
the `feedback` after the `final` carries the rubric result, and history stores it with
the rubric version it used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from realtime.protocol import RubricResult
from speech.llm.schema import ITEM_CHARS
from tests.realtime.client import JFK, World, build_world, learner, pcm
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, sqlite_server
from tests.speech.llm_server import local_llm_server

pytestmark = pytest.mark.slow

TIMEOUT_S = 120.0
LEVELS = [{"score": 0, "descriptor": "Off topic"}, {"score": 100, "descriptor": "On topic"}]
CRITERIA = [
    {"key": "relevance", "name": "Speaks to the prompt", "weight": 50, "levels": LEVELS},
    {"key": "fluency", "name": "Fluency", "weight": 30, "levels": LEVELS},
    {"key": "length", "name": "Length", "weight": 20, "levels": LEVELS},
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with (
        local_llm_server() as llama,
        sqlite_server(
            tmp_path_factory.mktemp("server"),
            PARLEY_LLM__BASE_URL=llama.base_url,
            PARLEY_LLM__MODEL=llama.model_name,
            PARLEY_LLM__TEMPERATURE="0",
            PARLEY_LLM__TIMEOUT_S=str(TIMEOUT_S),
        ) as server,
    ):
        yield build_world(server)


def admin_headers(server: Server) -> dict[str, str]:
    body = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    token = httpx.post(f"{server.url}/v1/auth/login", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def exercise_with_rubric(server: Server) -> str:
    headers = admin_headers(server)
    course = httpx.post(
        f"{server.url}/v1/courses", json={"title": "Talks", "status": "published"}, headers=headers
    ).json()
    body = {
        "kind": "open_response",
        "title": "Your country",
        "prompt": "Say something about your country.",
        "time_limit_s": 30,
    }
    created = httpx.post(
        f"{server.url}/v1/courses/{course['id']}/exercises", json=body, headers=headers
    ).json()
    url = f"{server.url}/v1/exercises/{created['id']}/rubric"
    put = httpx.put(url, json={"criteria": CRITERIA}, headers=headers)
    assert put.status_code == 201 and put.json()["version"] == 1, put.text
    exercise_id: str = created["id"]
    return exercise_id


async def test_the_feedback_after_the_final_carries_the_rubric_result(world: World) -> None:
    exercise_id = exercise_with_rubric(world.server)
    token = world.learner()
    async with learner(world.server, token) as client:
        await client.send(type="start", exercise_id=exercise_id)
        await client.until("ack")
        await client.stream(pcm(JFK), pace_s=0.005)
        await client.send(type="stop")
        final = await client.until("final")
        feedback = await client.until("feedback", limit_s=TIMEOUT_S + 30)
    assert final["evaluation"]["kind"] == "open_response"
    assert (feedback["source"], feedback["reason"]) == ("llm", None), feedback
    marked: dict[str, Any] = feedback["rubric_result"]
    RubricResult.model_validate(marked)  # every bound holds
    assert marked["version"] == 1 and marked["weight_assessed"] == 100
    relevance, fluency, length = marked["criteria"]
    assert relevance["source"] == "llm" and 0 <= relevance["score"] <= 100
    assert len(relevance["justification"]) <= ITEM_CHARS
    assert (fluency["source"], fluency["score"]) == (
        "parley",
        final["evaluation"]["scores"]["fluency"],
    )
    # JFK speaks for about 11 s of the 30 allowed: measured, not the LLM's guess.
    assert length["source"] == "parley" and 30 <= length["score"] <= 70
    weighted = sum(c["weight"] * c["score"] for c in marked["criteria"]) / 100
    assert marked["overall"] == round(weighted)

    url = f"{world.server.url}/v1/sessions/{final['session_id']}"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        detail = (await http.get(url)).json()
    assert detail["evaluation"]["details"]["feedback"]["rubric_result"] == marked
