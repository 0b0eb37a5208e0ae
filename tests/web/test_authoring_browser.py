"""A tutor authoring in real Chromium against a real `parley serve`: an open-response
exercise that opens tomorrow (learners do not see it yet), and its rubric, refused with the
API's reason while the weights do not add up, then saved as version 1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.realtime.server import Server, sqlite_server
from tests.web.browser import chromium, require_chromium
from tests.web.test_review_and_admin import (
    PASSWORD,
    as_admin,
    by_id,
    exercise_item,
    new_person,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("authoring")) as s:
        yield s


def test_a_tutor_schedules_an_exercise_and_writes_its_rubric(server: Server) -> None:
    require_chromium()
    admin = as_admin(server)
    (tina, tina_id), (leo, leo_id) = (
        new_person(server, admin, "tina", "tutor"),
        new_person(server, admin, "leo", "learner"),
    )
    course = httpx.post(
        f"{server.url}/v1/courses", json={"title": "Talks", "status": "published"}, headers=admin
    ).json()
    base = f"{server.url}/v1/courses/{course['id']}"
    httpx.post(f"{base}/tutors", json={"user_id": tina_id}, headers=admin).raise_for_status()
    httpx.post(f"{base}/learners", json={"user_id": leo_id}, headers=admin).raise_for_status()
    opens = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    # A new exercise has no rubric yet (404), and the first one saved is refused (422).
    with chromium(None, console_allows=("/rubric - Failed to load resource",)) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, tina, PASSWORD, "/tutor")
        row = wait.until(seen.visibility_of_element_located(by_id("tutor-course-row")))
        row.find_element(By.XPATH, './/summary[text()="Exercises and members"]').click()
        talks = wait.until(lambda d: d.find_element(*by_id("admin-course")))
        talks.find_element(By.XPATH, './/summary[text()="Add an exercise"]').click()
        Select(talks.find_element(*by_id("new-exercise-kind"))).select_by_value("open_response")
        talks.find_element(*by_id("new-exercise-title")).send_keys("Holidays")
        talks.find_element(*by_id("new-exercise-text")).send_keys("Describe your last holiday.")
        # The field's value in the browser's own zone: the moment is `opens` read there.
        field = talks.find_element(*by_id("new-exercise-opens"))
        driver.execute_script("arguments[0].value = arguments[1]", field, opens)
        expected = driver.execute_script("return new Date(arguments[0]).toISOString()", opens)
        talks.find_element(*by_id("exercise-create")).click()
        item = wait.until(lambda d: exercise_item(d, "Talks", "Holidays"))
        made = httpx.get(f"{base}/exercises", headers=signed_in(server, tina)).json()
        assert [e["available_from"] for e in made] == [expected.replace(".000Z", "Z")]
        assert httpx.get(f"{base}/exercises", headers=signed_in(server, leo)).json() == []

        item.find_element(By.TAG_NAME, "summary").click()
        item.find_element(By.XPATH, './/summary[text()="Rubric"]').click()
        total = wait.until(lambda d: item.find_element(*by_id("rubric-total")))
        assert total.text == "Weights: 100 of 100"
        weight = item.find_elements(*by_id("rubric-weight"))[0]
        weight.clear()
        weight.send_keys("30")
        assert total.text == "Weights: 90 of 100"
        item.find_element(*by_id("rubric-save")).click()
        notice = wait.until(seen.visibility_of_element_located((By.ID, "notice")))
        assert "the weights must sum to 100, not 90" in notice.text
        weight.clear()
        weight.send_keys("40")
        name = item.find_elements(*by_id("rubric-name"))[0]
        name.clear()
        name.send_keys("Answers the question")
        item.find_element(*by_id("rubric-save")).click()
        wait.until(lambda d: "version 1" in item.find_element(*by_id("rubric-version")).text)

    exercise_id = made[0]["id"]
    rubric = httpx.get(
        f"{server.url}/v1/exercises/{exercise_id}/rubric", headers=signed_in(server, tina)
    ).json()
    assert [(c["key"], c["name"], c["weight"]) for c in rubric["criteria"]] == [
        ("answers_the_question", "Answers the question", 40),
        ("grammar", "Grammar", 30),
        ("fluency", "Fluency", 30),
    ]
    assert [level["score"] for level in rubric["criteria"][0]["levels"]] == [20, 60, 100]
