"""A course's usage as its tutor reads it in real Chromium against a real `parley serve`:
the tutor's desk opens the course's statistics after a learner's real session, shows the
figures the API computed, and downloads them as a CSV file that parses back."""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.realtime.client import JFK, learner, pcm
from tests.realtime.server import Server, sqlite_server
from tests.web.browser import chromium, require_chromium
from tests.web.test_review_and_admin import (
    PASSWORD,
    as_admin,
    by_id,
    new_person,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("stats")) as s:
        yield s


def test_a_tutor_reads_and_downloads_a_course_s_usage(server: Server, tmp_path: Path) -> None:
    require_chromium()
    admin = as_admin(server)
    people = {
        name: new_person(server, admin, name, role)
        for name, role in (("una", "learner"), ("ted", "tutor"))
    }
    course = httpx.post(
        f"{server.url}/v1/courses", json={"title": "Speeches", "status": "published"}, headers=admin
    ).json()
    base = f"{server.url}/v1/courses/{course['id']}"
    httpx.post(f"{base}/tutors", json={"user_id": people["ted"][1]}, headers=admin)
    httpx.post(f"{base}/learners", json={"user_id": people["una"][1]}, headers=admin)
    exercise = httpx.post(
        f"{base}/exercises",
        json={"kind": "read_aloud", "title": "JFK", "reference_text": "Ask not."},
        headers=admin,
    ).json()
    token = signed_in(server, people["una"][0])["Authorization"].removeprefix("Bearer ")

    async def reading() -> None:
        async with learner(server, token) as client:
            await client.send(type="start", exercise_id=exercise["id"])
            await client.until("ack")
            await client.stream(pcm(JFK), pace_s=0.0)
            await client.send(type="stop")
            await client.until("final")

    asyncio.run(reading())
    ted = signed_in(server, people["ted"][0])
    expected = httpx.get(f"{base}/statistics?period=week", headers=ted).json()
    assert expected["summary"]["sessions"] == 1

    with chromium(None, downloads=tmp_path) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, people["ted"][0], PASSWORD, "/tutor")
        row = wait.until(seen.visibility_of_element_located(by_id("tutor-course-row")))
        opener = [s for s in row.find_elements("tag name", "summary") if s.text == "Statistics"]
        opener[0].click()
        stats = driver.find_element(*by_id("course-stats"))
        wait.until(lambda d: "Day" in stats.text)  # the last 30 days first
        Select(driver.find_element(*by_id("course-stats-period"))).select_by_value("week")
        wait.until(lambda d: "Week of" in stats.text)
        summary = driver.find_element(*by_id("course-stats-summary")).text
        minutes = expected["summary"]["minutes"]
        assert summary.startswith(f"1 session (1 completed) · {minutes:.1f} minutes"), summary
        assert "Una" in stats.text
        driver.find_element(*by_id("course-stats-csv")).click()
        deadline = time.monotonic() + 30
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            files = list(tmp_path.glob("*.csv"))
            time.sleep(0.2)
        assert [f.name for f in files] == ["Speeches-week.csv"]
    rows = list(csv.DictReader(files[0].read_text().splitlines()))
    assert len(rows) == 1 and rows[0]["sessions"] == "1"
