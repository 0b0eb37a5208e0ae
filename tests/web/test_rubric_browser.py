"""An open response marked against its rubric, as the learner sees it in real Chromium: the
session page shows each criterion with its weight, its score or "not assessed", and why.
No LLM is configured, so only what Parley measures is marked."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.realtime.client import JFK, learner, pcm
from tests.realtime.server import Server, sqlite_server
from tests.web.browser import chromium, require_chromium
from tests.web.test_review_and_admin import PASSWORD, as_admin, by_id, sign_in

pytestmark = pytest.mark.slow

LEVELS = [{"score": 10, "descriptor": "Rarely"}, {"score": 90, "descriptor": "Always"}]
CRITERIA = [
    {"key": "relevance", "name": "Answers the prompt", "weight": 70, "levels": LEVELS},
    {"key": "fluency", "name": "Fluency", "weight": 30, "levels": LEVELS},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("rubric")) as s:
        yield s


def test_the_learner_reads_their_marks_criterion_by_criterion(server: Server) -> None:
    require_chromium()
    admin = as_admin(server)
    email = f"ria-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": "Ria"}
    tokens = httpx.post(f"{server.url}/v1/auth/register", json=body).json()["tokens"]
    course = httpx.post(
        f"{server.url}/v1/courses", json={"title": "Talks", "status": "published"}, headers=admin
    ).json()
    exercise = httpx.post(
        f"{server.url}/v1/courses/{course['id']}/exercises",
        json={"kind": "open_response", "title": "Your country", "prompt": "Talk about it."},
        headers=admin,
    ).json()
    rubric = httpx.put(
        f"{server.url}/v1/exercises/{exercise['id']}/rubric",
        json={"criteria": CRITERIA},
        headers=admin,
    )
    assert rubric.status_code == 201, rubric.text

    async def answer() -> str:
        async with learner(server, tokens["access_token"]) as client:
            await client.send(type="start", exercise_id=exercise["id"])
            await client.until("ack")
            await client.stream(pcm(JFK), pace_s=0.0)
            await client.send(type="stop")
            final = await client.until("final")
            await client.until("feedback")
            return str(final["session_id"])

    session_id = asyncio.run(answer())
    with chromium(None) as driver:
        sign_in(driver, server, email, PASSWORD, f"/sessions/{session_id}")
        rows = WebDriverWait(driver, 60).until(
            lambda d: d.find_elements(*by_id("rubric-criterion"))
        )
        cells = [[td.text for td in row.find_elements("tag name", "td")] for row in rows]
        assert cells[0][:3] == ["Answers the prompt", "70 %", "not assessed"]
        assert cells[1][:2] == ["Fluency", "30 %"] and 0 <= int(cells[1][2]) <= 100
        assert cells[1][3].startswith("Measured by Parley")
        caption = driver.find_element(*by_id("rubric-result")).text
        assert f"Rubric (version 1): {cells[1][2]} over 30 % assessed" in caption
