"""The screenshots in docs/screenshots/, taken from a real `parley serve` in Chromium:

    .venv/bin/python -m tests.web.screenshots

the practice page after a result, the tutor's pages (the desk, and one learner), and the
admin's desk after a rescoring job."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.realtime.client import JFK
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, sqlite_server
from tests.web.browser import chromium, microphone_wav
from tests.web.test_learner_e2e import by_id, clip_sent, make_tutor, start_recording

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sqlite_server(Path(tmp)) as server:
        mic = microphone_wav(JFK, Path(tmp) / "mic.wav", lead_s=1.0, tail_s=3.0)
        email, password = make_tutor(server)
        with chromium(mic) as driver:
            driver.set_window_size(1100, 1500)
            wait = WebDriverWait(driver, 120)
            start_recording(driver, server, wait)
            wait.until(clip_sent)
            driver.find_element(*by_id("record-stop")).click()
            wait.until(seen.visibility_of_element_located(by_id("feedback")))
            driver.save_screenshot(str(OUT / "practice-result.png"))
        enrol_learners(server.url)
        with chromium(None) as driver:
            driver.set_window_size(1100, 900)
            wait = WebDriverWait(driver, 60)
            driver.get(f"{server.url}/tutor")
            wait.until(seen.visibility_of_element_located(by_id("login-email"))).send_keys(email)
            driver.find_element(*by_id("login-password")).send_keys(password)
            driver.find_element(*by_id("login-submit")).click()
            row = wait.until(seen.visibility_of_element_located(by_id("tutor-learner-row")))
            driver.save_screenshot(str(OUT / "tutor-desk.png"))
            row.find_element(By.TAG_NAME, "a").click()
            wait.until(seen.visibility_of_element_located(by_id("tutor-session-row")))
            driver.save_screenshot(str(OUT / "tutor-learner.png"))
        with chromium(None) as driver:
            driver.set_window_size(1100, 1500)
            wait = WebDriverWait(driver, 60)
            driver.get(f"{server.url}/admin")
            email_field = wait.until(seen.visibility_of_element_located(by_id("login-email")))
            email_field.send_keys(ADMIN_EMAIL)
            driver.find_element(*by_id("login-password")).send_keys(ADMIN_PASSWORD)
            driver.find_element(*by_id("login-submit")).click()
            wait.until(seen.visibility_of_element_located(by_id("job-start"))).click()
            wait.until(lambda d: "completed" in d.find_element(*by_id("job-status")).text)
            driver.save_screenshot(str(OUT / "admin-desk.png"))
        httpx.get(f"{server.url}/healthz").raise_for_status()


def enrol_learners(url: str) -> None:
    """The learners who practised, enrolled in the demo course: the tutor's desk lists them."""
    login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    token = httpx.post(f"{url}/v1/auth/login", json=login).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    demo = next(
        c
        for c in httpx.get(f"{url}/v1/courses", headers=headers).json()
        if c["title"] == "Parley demo"
    )
    for user in httpx.get(f"{url}/v1/users?role=learner", headers=headers).json():
        body = {"user_id": user["id"]}
        added = httpx.post(f"{url}/v1/courses/{demo['id']}/learners", json=body, headers=headers)
        added.raise_for_status()


if __name__ == "__main__":
    main()
