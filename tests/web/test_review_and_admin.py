"""After practising: a learner's history with its progress chart and each stored session
(scores, coloured words, the recording playing) on a phone, surviving a reload; a tutor's
courses, learners, one learner's progress and a note on a session; an admin's users,
enrolments, exercises and a rescoring job whose progress bar reaches the end. Real
Chromium against a real `parley serve`; each browser's console must stay free of errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.realtime.client import JFK, JFK_TEXT, learner, pcm
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, sqlite_server
from tests.web.browser import PHONE, chromium, fits, require_chromium

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


def new_person(server: Server, admin: dict[str, str], name: str, role: str) -> tuple[str, str]:
    """A new account made by the admin: its e-mail (password PASSWORD) and id."""
    email = f"{name}-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": name.title(), "role": role}
    made = httpx.post(f"{server.url}/v1/users", json=body, headers=admin)
    made.raise_for_status()
    return email, made.json()["id"]


def signed_in(server: Server, email: str) -> dict[str, str]:
    """The headers of `email` signed in through the API."""
    login = httpx.post(f"{server.url}/v1/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def as_admin(server: Server) -> dict[str, str]:
    login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    token = httpx.post(f"{server.url}/v1/auth/login", json=login).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


class School(NamedTuple):
    learner: str  # e-mail
    tutor: str  # e-mail
    course_id: str
    admin: dict[str, str]  # the admin's headers


@pytest.fixture(scope="module")
def school(server: Server) -> School:
    """A learner with two stored sessions of a read-aloud exercise, and a tutor of its
    course "Speeches"."""
    email = f"lee-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": "Lee"}
    token = httpx.post(f"{server.url}/v1/auth/register", json=body).json()["tokens"]
    headers = as_admin(server)
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
    tutor_email = f"tess-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": tutor_email, "password": PASSWORD, "display_name": "Tess", "role": "tutor"}
    tutor = httpx.post(f"{server.url}/v1/users", json=body, headers=headers).json()
    url = f"{server.url}/v1/courses/{course['id']}/tutors"
    httpx.post(url, json={"user_id": tutor["id"]}, headers=headers).raise_for_status()

    async def two_sessions() -> None:
        for _ in range(2):
            async with learner(server, token["access_token"]) as client:
                await client.send(type="start", exercise_id=exercise["id"])
                await client.until("ack")
                await client.stream(pcm(JFK), pace_s=0.0)
                await client.send(type="stop")
                await client.until("final")

    asyncio.run(two_sessions())
    return School(email, tutor_email, course["id"], headers)


def background(driver: Chrome, element: Any) -> str:
    return str(
        driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", element)
    )


def test_a_learner_reviews_past_sessions_on_a_phone(server: Server, school: School) -> None:
    require_chromium()
    email = school.learner
    with chromium(None) as driver:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, email, PASSWORD, "/history")
        chart = wait.until(seen.visibility_of_element_located(by_id("progress-chart")))
        assert len(chart.find_elements(By.CSS_SELECTOR, "svg circle")) == 2
        summary = driver.find_element(*by_id("progress-summary")).text
        assert summary.startswith("Overall score over 2 scored sessions: from ")
        numbers = chart.find_elements(By.CSS_SELECTOR, "table tbody tr")  # the text alternative
        assert len(numbers) == 2
        rows = driver.find_elements(*by_id("history-row"))
        assert len(rows) == 2 and all("overall" in r.text for r in rows)
        assert fits(driver)
        rows[0].find_element(By.TAG_NAME, "a").send_keys(Keys.ENTER)  # by keyboard

        wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        assert 0 <= int(driver.find_element(*by_id("score-prosody")).text) <= 100
        words = driver.find_elements(*by_id("word"))
        assert len(words) == len(JFK_TEXT.split())
        kinds = {w.get_attribute("data-error-type") for w in words}
        assert kinds <= ERROR_TYPES and "none" in kinds
        right = next(w for w in words if w.get_attribute("data-error-type") == "none")
        assert background(driver, right) == "rgb(216, 243, 220)"  # green, as app.css says
        assert "country" in driver.find_element(*by_id("session-transcript")).text.lower()
        playback = wait.until(seen.presence_of_element_located(by_id("playback")))
        wait.until(lambda d: d.execute_script("return arguments[0].duration", playback) > 10)
        driver.execute_script("arguments[0].play()", playback)
        wait.until(lambda d: d.execute_script("return arguments[0].currentTime", playback) > 0.2)
        assert fits(driver)
        session_path = driver.current_url.removeprefix(server.url)

        driver.refresh()  # a reload keeps the learner signed in, on the same page
        wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        assert driver.current_url.endswith(session_path)
        assert not driver.find_elements(*by_id("login-email"))
        assert not driver.find_elements(*by_id("note-save"))  # notes are the tutors'
        kept = driver.execute_script("return sessionStorage.getItem('parley.refresh')")
        driver.find_element(*by_id("sign-out")).click()
        wait.until(seen.visibility_of_element_located(by_id("login-email")))
        assert driver.execute_script("return sessionStorage.getItem('parley.refresh')") is None
        # Signing out revoked the sign-in on the server, not only in this tab.
        again = httpx.post(f"{server.url}/v1/auth/refresh", json={"refresh_token": kept})
        assert again.status_code == 401
        driver.refresh()
        wait.until(seen.visibility_of_element_located(by_id("login-email")))


def test_a_tutor_follows_a_learner_and_an_admin_runs_the_school(
    server: Server, school: School
) -> None:
    require_chromium()
    tutor_email, course_id, admin = school.tutor, school.course_id, school.admin
    with chromium(None) as driver:
        wait = WebDriverWait(driver, 60)
        sign_in(driver, server, tutor_email, PASSWORD, "/tutor")
        course = wait.until(seen.visibility_of_element_located(by_id("tutor-course-row")))
        assert "Speeches" in course.text
        # A tutor manages their course's exercises as an admin does.
        course.find_element(By.TAG_NAME, "summary").click()
        managed = wait.until(lambda d: course.find_elements(*by_id("admin-exercise")))
        assert [e.text for e in managed] == ["JFK"]
        assert not course.find_elements(*by_id("enrol-pick"))  # only admins list users
        rows = driver.find_elements(*by_id("tutor-learner-row"))
        assert [r.text.split(" · ")[:2] for r in rows] == [["Lee", "2 sessions"]]
        rows[0].find_element(By.TAG_NAME, "a").click()
        sessions = wait.until(lambda d: d.find_elements(*by_id("tutor-session-row")))
        assert len(sessions) == 2
        assert driver.find_element(By.TAG_NAME, "h1").text == "Lee"
        assert (
            len(driver.find_elements(By.CSS_SELECTOR, '[data-testid="progress-chart"] circle')) == 2
        )
        by_exercise = driver.find_element(*by_id("learner-exercises")).text
        assert "JFK 2" in by_exercise  # title, then attempts
        sessions[0].find_element(By.TAG_NAME, "a").click()
        Select(
            wait.until(seen.visibility_of_element_located(by_id("note-rating")))
        ).select_by_value("4")
        driver.find_element(*by_id("note-comment")).send_keys("Clear, a little fast.")
        driver.find_element(*by_id("note-save")).click()
        note = wait.until(seen.visibility_of_element_located(by_id("tutor-note")))
        assert "Tess: Clear, a little fast." in note.text and "★★★★☆" in note.text
        # One note per tutor: the form now edits it.
        assert driver.find_element(*by_id("note-save")).text == "Update my note"
        assert driver.find_element(*by_id("note-comment")).get_attribute("value") == (
            "Clear, a little fast."
        )
        driver.find_element(By.TAG_NAME, "summary").click()
        versions = driver.find_elements(*by_id("evaluation-version"))
        assert len(versions) == 1 and "(current)" in versions[0].text
        assert not driver.find_element(*by_id("nav-admin")).is_displayed()

    with chromium(None) as driver:
        # Parts of the desk draw themselves again after each change: elements go stale.
        wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException])
        sign_in(driver, server, ADMIN_EMAIL, ADMIN_PASSWORD, "/admin")
        # A new account, enrolled, made a tutor, then barred from signing in.
        wait.until(seen.visibility_of_element_located(by_id("user-row")))
        driver.find_element(By.XPATH, '//summary[text()="Add a user"]').click()
        noor = f"noor-{uuid.uuid4().hex[:6]}@example.org"
        driver.find_element(*by_id("new-user-name")).send_keys("Noor")
        driver.find_element(*by_id("new-user-email")).send_keys(noor)
        driver.find_element(*by_id("new-user-password")).send_keys(PASSWORD)
        driver.find_element(*by_id("new-user-create")).click()
        wait.until(lambda d: user_row(d, noor) is not None)

        speeches = wait.until(lambda d: card(d, "Speeches"))
        Select(speeches.find_element(*by_id("enrol-pick"))).select_by_visible_text(f"Noor ({noor})")
        speeches.find_element(*by_id("enrol-add")).click()
        wait.until(lambda d: "Noor · learner" in members(d, "Speeches"))
        assert "Lee · learner" in members(driver, "Speeches")
        assert "Tess · tutor" in members(driver, "Speeches")

        Select(user_row(driver, noor).find_element(*by_id("user-role"))).select_by_value("tutor")
        wait.until(lambda d: user_of(server, admin, noor)["role"] == "tutor")
        wait.until(lambda d: shown_role(d, noor) == "tutor")  # once the page is drawn again
        user_row(driver, noor).find_element(*by_id("user-active")).click()
        wait.until(lambda d: user_of(server, admin, noor)["active"] is False)
        refused = httpx.post(
            f"{server.url}/v1/auth/login", json={"email": noor, "password": PASSWORD}
        )
        assert refused.status_code in (401, 403)

        # An exercise created, renamed, then archived: learners no longer see it.
        speeches = wait.until(lambda d: card(d, "Speeches"))
        speeches.find_element(By.XPATH, './/summary[text()="Add an exercise"]').click()
        speeches.find_element(*by_id("new-exercise-title")).send_keys("Second")
        speeches.find_element(*by_id("new-exercise-text")).send_keys("Ask not.")
        speeches.find_element(*by_id("exercise-create")).click()
        wait.until(lambda d: titles(server, admin, course_id) == ["JFK", "Second"])
        second = wait.until(lambda d: exercise_item(d, "Speeches", "Second"))
        second.find_element(By.TAG_NAME, "summary").click()
        title = second.find_element(*by_id("exercise-title"))
        title.clear()
        title.send_keys("Second, renamed")
        second.find_element(*by_id("exercise-save")).click()
        wait.until(lambda d: "Second, renamed" in titles(server, admin, course_id))
        renamed = wait.until(lambda d: exercise_item(d, "Speeches", "Second, renamed"))
        renamed.find_element(By.TAG_NAME, "summary").click()
        renamed.find_element(*by_id("exercise-archive")).click()
        wait.until(lambda d: titles(server, admin, course_id) == ["JFK"])
        wait.until(lambda d: exercise_item(d, "Speeches", "Second, renamed (archived)"))

        # Rescoring the course with the hand-tuned formulas (the trained scorer is the
        # default): the bar moves to the end while the embedded workers run.
        Select(driver.find_element(*by_id("job-course"))).select_by_visible_text("Speeches")
        pick = Select(driver.find_element(*by_id("job-evaluator")))
        assert pick.first_selected_option.text.startswith("Trained scorer (default): ")
        pick.select_by_index(1)
        hand = pick.first_selected_option.get_attribute("value") or ""
        assert pick.first_selected_option.text == f"Hand-tuned formulas: {hand}"
        # One model offered: nothing to choose; no LLM configured: its box says so.
        assert not driver.find_elements(*by_id("job-model"))
        assert not driver.find_element(*by_id("job-llm")).is_enabled()
        driver.find_element(*by_id("job-start")).click()
        job = wait.until(lambda d: d.find_element(*by_id("job-row")))
        shares = set()

        def finished(d: Chrome) -> bool:
            shares.add(job.find_element(*by_id("job-progress")).get_attribute("aria-valuenow"))
            return "completed" in job.find_element(*by_id("job-status")).text

        wait.until(finished)
        assert job.find_element(*by_id("job-progress")).get_attribute("aria-valuenow") == "100"
        assert "2 of 2 rescored (100%)" in job.find_element(*by_id("job-status")).text
        assert shares <= {"0", "50", "100"}
        assert not job.find_element(*by_id("job-cancel")).is_displayed()
        jobs = httpx.get(f"{server.url}/v1/rescore-jobs?limit=1", headers=admin).json()["items"]
        assert jobs[0]["options"]["evaluator"] == hand and hand.endswith("+hand")
        listed = httpx.get(f"{server.url}/v1/sessions?course_id={course_id}", headers=admin)
        for item in listed.json()["items"]:
            detail = httpx.get(f"{server.url}/v1/sessions/{item['id']}", headers=admin).json()
            assert detail["evaluation"]["evaluator_version"] == hand

        # The desks on a phone: nothing wider than the screen.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        assert fits(driver)
        driver.find_element(*by_id("nav-tutor")).click()
        wait.until(seen.visibility_of_element_located(by_id("tutor-learner-row")))
        assert fits(driver)


ERROR_TYPES = {
    "none",
    "mispronunciation",
    "omission",
    "insertion",
    "repetition",
    "unexpected_break",
    "missing_break",
    "monotone",
}


def user_of(server: Server, admin: dict[str, str], email: str) -> dict[str, Any]:
    found = httpx.get(f"{server.url}/v1/users?limit=200", headers=admin).json()
    return dict(next(u for u in found if u["email"] == email))


def user_row(driver: Chrome, email: str) -> Any:
    return next((r for r in driver.find_elements(*by_id("user-row")) if email in r.text), None)


def shown_role(driver: Chrome, email: str) -> str | None:
    row = user_row(driver, email)
    return (
        None
        if row is None
        else Select(row.find_element(*by_id("user-role"))).first_selected_option.text
    )


def card(driver: Chrome, course: str) -> Any:
    """The admin desk's card of `course`, once drawn."""
    for found in driver.find_elements(*by_id("admin-course")):
        if found.find_element(By.TAG_NAME, "h3").text == course:
            return found
    return None


def members(driver: Chrome, course: str) -> str:
    """The members listed on the card of `course`, a line each."""
    found = card(driver, course)
    items = [] if found is None else found.find_elements(*by_id("course-member"))
    return "\n".join(m.text for m in items)


def exercise_item(driver: Chrome, course: str, exercise: str) -> Any:
    """The item of `exercise` in the card of `course`, once drawn."""
    found = card(driver, course)
    for item in [] if found is None else found.find_elements(*by_id("admin-exercise")):
        if item.find_element(By.TAG_NAME, "summary").text == exercise:
            return item
    return None


def titles(server: Server, admin: dict[str, str], course_id: str) -> list[str]:
    """The course's exercises as a learner sees them (archived ones left out)."""
    url = f"{server.url}/v1/courses/{course_id}/exercises"
    return [str(e["title"]) for e in httpx.get(url, headers=admin).json()]


def test_a_sign_in_ended_elsewhere_is_explained_and_asks_to_sign_in(server: Server) -> None:
    require_chromium()
    email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
    body = {"email": email, "password": PASSWORD, "display_name": "Kim"}
    assert httpx.post(f"{server.url}/v1/auth/register", json=body).status_code == 201
    # The page's requests with the revoked tokens are answered 401, which Chromium logs.
    with chromium(None, console_allows=("status of 401",)) as driver:
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
