"""The library in real Chromium against a real `parley serve` (no LLM configured): a learner
asks what a word means, reads Parley's dictionary answer and saves it to their library; a
tutor adds a phrase to their course and rates it; the learner finds both by searching."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.realtime.server import Server, sqlite_server
from tests.web.browser import chromium, console_errors, require_chromium
from tests.web.test_review_and_admin import PASSWORD, as_admin, by_id, new_person, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("library")) as s:
        yield s


def shown(driver: Chrome) -> list[str] | None:
    """Each listed resource's first line, its kind, level and rating cut short; None while
    the list is being replaced."""
    try:
        rows = [r.text.split("\n")[0] for r in driver.find_elements(*by_id("resource"))]
    except StaleElementReferenceException:
        return None
    return sorted(row.replace(" yet", "").split(" · ★")[0] for row in rows)


def test_a_learner_looks_up_a_word_and_a_tutor_shares_a_phrase(server: Server) -> None:
    require_chromium()
    admin = as_admin(server)
    (lea, lea_id), (tim, tim_id) = (
        new_person(server, admin, "lea", "learner"),
        new_person(server, admin, "tim", "tutor"),
    )
    course = httpx.post(
        f"{server.url}/v1/courses", json={"title": "Sailing", "status": "published"}, headers=admin
    ).json()
    base = f"{server.url}/v1/courses/{course['id']}"
    httpx.post(f"{base}/tutors", json={"user_id": tim_id}, headers=admin).raise_for_status()
    httpx.post(f"{base}/learners", json={"user_id": lea_id}, headers=admin).raise_for_status()

    with chromium(None) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, tim, PASSWORD, "/library")
        wait.until(seen.visibility_of_element_located(by_id("resource-add")))
        Select(driver.find_element(*by_id("resource-kind"))).select_by_value("phrase")
        driver.find_element(*by_id("resource-text")).send_keys("learn the ropes")
        driver.find_element(*by_id("resource-explanation")).send_keys("to learn how to do a job")
        driver.find_element(*by_id("resource-add")).submit()
        row = wait.until(lambda d: d.find_elements(*by_id("resource")))[0]
        assert "learn the ropes" in row.text and "not rated yet" in row.text
        Select(row.find_element(*by_id("resource-stars"))).select_by_value("4")
        wait.until(lambda d: "★ 4 (1)" in d.find_element(*by_id("resource")).text)
        assert console_errors(driver) == []

    with chromium(None) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, lea, PASSWORD, "/library")
        wait.until(lambda d: d.find_elements(*by_id("resource")))
        assert not driver.find_elements(*by_id("resource-add"))  # learners keep their own
        assert not driver.find_elements(*by_id("resource-stars"))  # and do not rate
        driver.find_element(*by_id("analyse-text")).send_keys("ropes")
        Select(driver.find_element(*by_id("analyse-level"))).select_by_value("A2")
        driver.find_element(*by_id("analyse")).click()
        summary = wait.until(seen.visibility_of_element_located(by_id("analysis-summary")))
        assert summary.text.startswith("“ropes” is a form of “rope” (noun)")
        assert "From Parley's dictionary." in driver.find_element(*by_id("analysis")).text
        driver.find_element(*by_id("analysis-save")).click()
        wait.until(lambda d: "Saved" in d.find_element(*by_id("analysis-save")).text)
        wait.until(lambda d: len(d.find_elements(*by_id("resource"))) == 2)
        search = driver.find_element(*by_id("resource-search"))
        search.send_keys("ropes")
        search.submit()
        wait.until(
            lambda d: shown(d) == ["learn the ropes · phrase", "ropes · vocabulary · A2 · your own"]
        )
        assert console_errors(driver) == []
