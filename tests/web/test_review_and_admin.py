"""After practising: a learner's history with its progress chart and each stored session
(scores, coloured words, the recording) that survives a reload; a tutor's view of one
learner and a note on a session; an admin's users, courses, exercises and a rescoring job
whose progress bar reaches the end. Real Chromium against a real `parley serve`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.realtime.client import JFK, JFK_TEXT, learner, pcm
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, sqlite_server
from tests.web.browser import chromium, console_errors, require_chromium

pytestmark = pytest.mark.slow

PASSWORD = "a long password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("review")) as s:
        yield s


def by_id(testid: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'[data-testid="{testid}"]'


def sign_in(driver: Chrome, server: Server, email: str, password: str, path: str = "/") -> None:
    driver.get(f"{server.url}{path}")
    wait = WebDriverWait(driver, 60)
    wait.until(seen.visibility_of_element_located(by_id("login-email"))).send_keys(email)
    driver.find_element(*by_id("login-password")).send_keys(password)
    driver.find_element(*by_id("login-submit")).click()
    wait.until(seen.visibility_of_element_located(by_id("sign-out")))


def practised(server: Server) -> tuple[str, str, dict[str, str]]:
    """A learner with two stored sessions of a read-aloud exercise: (e-mail, course id, the
    admin's headers)."""
    email = f"lee-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": "Lee"}
    token = httpx.post(f"{server.url}/v1/auth/register", json=body).json()["tokens"]
    admin = httpx.post(
        f"{server.url}/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {admin}"}
    course = httpx.post(
        f"{server.url}/v1/courses",
        json={"title": "Speeches", "status": "published"},
        headers=headers,
    ).json()
    exercise = httpx.post(
        f"{server.url}/v1/courses/{course['id']}/exercises",
        json={"kind": "read_aloud", "title": "JFK", "reference_text": JFK_TEXT},
        headers=headers,
    ).json()

    enrolled = httpx.post(
        f"{server.url}/v1/courses/{course['id']}/enrol",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert enrolled.status_code == 200

    async def two_sessions() -> None:
        for _ in range(2):
            async with learner(server, token["access_token"]) as client:
                await client.send(type="start", exercise_id=exercise["id"])
                await client.until("ack")
                await client.stream(pcm(JFK), pace_s=0.0)
                await client.send(type="stop")
                await client.until("final")

    asyncio.run(two_sessions())
    return email, course["id"], headers


def test_history_review_tutor_notes_and_administration(server: Server) -> None:
    require_chromium()
    email, course_id, admin = practised(server)
    with chromium(None) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, email, PASSWORD, "/history")
        chart = wait.until(seen.visibility_of_element_located(by_id("progress-chart")))
        assert chart.find_elements(By.CSS_SELECTOR, "svg circle")  # two scored sessions
        rows = driver.find_elements(*by_id("history-row"))
        assert len(rows) == 2
        rows[0].find_element(By.TAG_NAME, "a").click()

        wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        words = driver.find_elements(*by_id("word"))
        assert len(words) == len(JFK_TEXT.split())
        assert {w.get_attribute("data-error-type") for w in words} <= {
            "none",
            "mispronunciation",
            "omission",
            "insertion",
            "repetition",
            "unexpected_break",
            "missing_break",
            "monotone",
        }
        playback = wait.until(seen.presence_of_element_located(by_id("playback")))
        wait.until(lambda d: d.execute_script("return arguments[0].duration", playback) > 10)
        assert "country" in driver.find_element(*by_id("session-transcript")).text.lower()
        session_path = driver.current_url.removeprefix(server.url)

        driver.refresh()  # a reload keeps the learner signed in, on the same page
        wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        assert driver.current_url.endswith(session_path)
        assert not driver.find_elements(*by_id("login-email"))
        assert not driver.find_elements(*by_id("note-save"))  # notes are the tutors'
        driver.find_element(*by_id("sign-out")).click()
        wait.until(seen.visibility_of_element_located(by_id("login-email")))
        assert console_errors(driver) == []

    with chromium(None) as driver:
        # The admin page draws itself again after each change: elements may go stale.
        wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException])
        sign_in(driver, server, ADMIN_EMAIL, ADMIN_PASSWORD, "/tutor")
        row = next(
            r
            for r in wait.until(lambda d: d.find_elements(*by_id("tutor-learner-row")))
            if "Lee" in r.text
        )
        row.find_element(By.TAG_NAME, "a").click()
        sessions = wait.until(lambda d: d.find_elements(*by_id("tutor-session-row")))
        assert len(sessions) == 2
        assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="progress-chart"] svg')
        sessions[0].find_element(By.TAG_NAME, "a").click()
        Select(
            wait.until(seen.visibility_of_element_located(by_id("note-rating")))
        ).select_by_value("4")
        driver.find_element(*by_id("note-comment")).send_keys("Clear, a little fast.")
        driver.find_element(*by_id("note-save")).click()
        note = wait.until(seen.visibility_of_element_located(by_id("tutor-note")))
        assert "Clear, a little fast." in note.text and "★★★★☆" in note.text
        assert "Evaluations (1)" in driver.find_element(*by_id("evaluation-versions")).text

        driver.find_element(*by_id("nav-admin")).click()
        lee = next(
            r for r in wait.until(lambda d: d.find_elements(*by_id("user-row"))) if email in r.text
        )
        Select(lee.find_element(*by_id("user-role"))).select_by_value("tutor")
        wait.until(lambda d: role_of(server, admin, email) == "tutor")
        # The page shows it once it has loaded again.
        wait.until(lambda d: shown_role(d, email) == "tutor")

        speeches = next(
            c for c in driver.find_elements(*by_id("admin-course")) if "Speeches" in c.text
        )
        speeches.find_element(*by_id("job-start")).click()
        status = speeches.find_element(*by_id("job-status"))
        wait.until(lambda d: "completed" in status.text)
        progress = speeches.find_element(*by_id("job-progress"))
        assert progress.get_attribute("aria-valuenow") == "100"
        assert "2 of 2 rescored" in status.text

        speeches.find_element(*by_id("new-exercise-title")).send_keys("Second")
        speeches.find_element(*by_id("new-exercise-text")).send_keys("Ask not.")
        speeches.find_element(*by_id("exercise-create")).click()
        wait.until(lambda d: len(exercises(server, admin, course_id)) == 2)
        # Edit its title, then archive it: learners no longer see it.
        second = wait.until(lambda d: course_card(d, "Speeches", "Second"))
        second.find_element(By.TAG_NAME, "summary").click()
        title = second.find_element(*by_id("exercise-title"))
        title.clear()
        title.send_keys("Second, renamed")
        second.find_element(*by_id("exercise-save")).click()
        wait.until(lambda d: "Second, renamed" in titles(server, admin, course_id))
        renamed = wait.until(lambda d: course_card(d, "Speeches", "Second, renamed"))
        renamed.find_element(By.TAG_NAME, "summary").click()
        renamed.find_element(*by_id("exercise-archive")).click()
        wait.until(lambda d: titles(server, admin, course_id) == ["JFK"])
        assert console_errors(driver) == []


def role_of(server: Server, admin: dict[str, str], email: str) -> str:
    found = httpx.get(f"{server.url}/v1/users?limit=200", headers=admin).json()
    return str(next(u["role"] for u in found if u["email"] == email))


def shown_role(driver: Chrome, email: str) -> str | None:
    for row in driver.find_elements(*by_id("user-row")):
        if email in row.text:
            return Select(row.find_element(*by_id("user-role"))).first_selected_option.text
    return None


def course_card(driver: Chrome, course: str, exercise: str) -> Any:
    """The admin page's item of `exercise` in `course`, once drawn."""
    for card in driver.find_elements(*by_id("admin-course")):
        if course in card.text:
            for item in card.find_elements(*by_id("admin-exercise")):
                if item.find_element(By.TAG_NAME, "summary").text == exercise:
                    return item
    return None


def titles(server: Server, admin: dict[str, str], course_id: str) -> list[str]:
    """The course's exercises as a learner sees them (archived ones left out)."""
    return [str(e["title"]) for e in exercises(server, admin, course_id)]


def exercises(server: Server, admin: dict[str, str], course_id: str) -> list[dict[str, Any]]:
    url = f"{server.url}/v1/courses/{course_id}/exercises"
    found: list[dict[str, Any]] = httpx.get(url, headers=admin).json()
    return found


def test_a_sign_in_ended_elsewhere_is_explained_and_asks_to_sign_in(server: Server) -> None:
    require_chromium()
    email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": "Kim"}
    assert httpx.post(f"{server.url}/v1/auth/register", json=body).status_code == 201
    with chromium(None) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, email, PASSWORD, "/history")
        wait.until(seen.visibility_of_element_located(by_id("progress-chart")))
        # Signed out everywhere from another device: this tab's tokens are revoked.
        other = httpx.post(
            f"{server.url}/v1/auth/login", json={"email": email, "password": PASSWORD}
        ).json()
        out = httpx.post(
            f"{server.url}/v1/auth/logout",
            json={"refresh_token": other["refresh_token"], "everywhere": True},
        )
        assert out.status_code == 204
        driver.find_element(*by_id("nav-exercises")).click()
        notice = wait.until(seen.visibility_of_element_located((By.ID, "notice")))
        assert notice.text == "Your session has expired. Please sign in again."
        wait.until(seen.visibility_of_element_located(by_id("login-email")))
