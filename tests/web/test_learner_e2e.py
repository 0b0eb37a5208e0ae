"""A learner practises in the browser: real Chromium, a fake microphone playing JFK's "ask
not", a real `parley serve` with the real model. What the learner sees is what is checked."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.realtime.client import JFK
from tests.realtime.server import ADMIN_EMAIL, ADMIN_PASSWORD, Server, sqlite_server
from tests.web.browser import chromium, console_errors, microphone_wav, require_chromium

pytestmark = pytest.mark.slow

LEAD_S = 1.0  # silence before the clip in the fake microphone
CLIP_S = 11.0  # jfk.wav


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("web")) as s:
        yield s


def by_id(testid: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'[data-testid="{testid}"]'


def register(driver: Chrome, server: Server, wait: WebDriverWait[Chrome]) -> None:
    driver.get(f"{server.url}/#/login")
    wait.until(seen.visibility_of_element_located(by_id("login-email")))
    driver.find_element(*by_id("login-email")).send_keys(f"l-{uuid.uuid4().hex[:8]}@example.org")
    driver.find_element(*by_id("login-password")).send_keys("a long password")
    driver.find_element(By.TAG_NAME, "summary").click()
    driver.find_element(*by_id("register-name")).send_keys("Lee")
    driver.find_element(*by_id("register-submit")).click()
    wait.until(seen.visibility_of_element_located(by_id("exercise-item")))


def shown(driver: Chrome) -> str:
    committed = driver.find_element(*by_id("transcript-committed")).text
    tentative = driver.find_element(*by_id("transcript-tentative")).text
    return f"{committed} {tentative}".lower().replace(",", "").replace(".", "")


def start_recording(driver: Chrome, server: Server, wait: WebDriverWait[Chrome]) -> None:
    """A new learner opens the demo exercise ("Ask not") and presses Start."""
    register(driver, server, wait)
    demo = next(e for e in driver.find_elements(*by_id("exercise-item")) if "Ask not" in e.text)
    demo.find_element(By.TAG_NAME, "a").click()
    wait.until(seen.element_to_be_clickable(by_id("record-start"))).click()


def clip_sent(driver: Chrome) -> bool:
    """Whether the page has sent the whole clip (and its lead of silence) to the server."""
    sent = driver.execute_script(
        "const s = window.parleySession; return s ? s.sentBytes / (2 * s.sampleRate) : 0"
    )
    return float(sent) >= LEAD_S + CLIP_S + 0.5


def test_a_learner_records_sees_the_live_transcript_then_scores(
    server: Server, tmp_path: Path
) -> None:
    require_chromium()
    mic = microphone_wav(JFK, tmp_path / "mic.wav", lead_s=LEAD_S, tail_s=3.0)
    with chromium(mic) as driver:
        wait = WebDriverWait(driver, 120)
        start_recording(driver, server, wait)
        # Committed words show while the learner still speaks, before any stop.
        wait.until(
            lambda d: (
                "fellow americans" in d.find_element(*by_id("transcript-committed")).text.lower()
            )
        )
        assert driver.find_element(*by_id("record-stop")).is_enabled()
        wait.until(clip_sent)
        driver.find_element(*by_id("record-stop")).click()
        overall = wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        scores = {
            name: int(driver.find_element(*by_id(f"score-{name}")).text)
            for name in ("accuracy", "fluency", "completeness", "overall")
        }
        assert all(0 <= value <= 100 for value in scores.values()) and overall.text
        assert scores["completeness"] >= 80
        words = driver.find_elements(*by_id("word"))
        assert len(words) == 22
        kinds = {w.get_attribute("data-error-type") for w in words}
        assert kinds <= {
            "none",
            "mispronunciation",
            "omission",
            "repetition",
            "insertion",
            "unexpected_break",
            "missing_break",
            "monotone",
        }
        assert "none" in kinds
        wait.until(seen.visibility_of_element_located(by_id("feedback")))
        wait.until(seen.presence_of_element_located(by_id("playback")))

        driver.find_element(*by_id("nav-history")).click()
        row = wait.until(seen.visibility_of_element_located(by_id("history-row")))
        assert "Ask not" in row.text and "completed" in row.text
        assert console_errors(driver) == []


def test_a_denied_microphone_is_explained_in_a_sentence(server: Server) -> None:
    require_chromium()
    with chromium(None, allow_microphone=False) as driver:
        wait = WebDriverWait(driver, 120)
        register(driver, server, wait)
        driver.find_elements(*by_id("exercise-item"))[0].find_element(By.TAG_NAME, "a").click()
        wait.until(seen.element_to_be_clickable(by_id("record-start"))).click()
        notice = wait.until(seen.visibility_of_element_located((By.ID, "notice")))
        assert "cannot use your microphone" in notice.text


def test_a_network_blip_mid_recording_resumes_without_losing_words(
    server: Server, tmp_path: Path
) -> None:
    require_chromium()
    mic = microphone_wav(JFK, tmp_path / "mic.wav", lead_s=LEAD_S, tail_s=3.0)
    with chromium(mic) as driver:
        wait = WebDriverWait(driver, 120)
        start_recording(driver, server, wait)
        wait.until(lambda d: "fellow americans" in shown(d))
        driver.execute_script("window.parleySession.drop()")  # as a network blip would
        wait.until(clip_sent)
        driver.find_element(*by_id("record-stop")).click()
        wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        final = driver.execute_script("return window.parleyLastFinal.transcript").lower()
        assert "ask not what your country can do for you" in final.replace(",", "")
        assert int(driver.find_element(*by_id("score-completeness")).text) >= 95
        assert driver.execute_script("return window.parleySession.resumes") == 1
        assert console_errors(driver) == []


def make_tutor(server: Server) -> tuple[str, str]:
    """A tutor of the demo course, made through the REST API: (e-mail, password)."""
    login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    token = httpx.post(f"{server.url}/v1/auth/login", json=login).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    email, password = f"t-{uuid.uuid4().hex[:8]}@example.org", "a tutor password"
    body = {"email": email, "password": password, "display_name": "Tess", "role": "tutor"}
    tutor = httpx.post(f"{server.url}/v1/users", json=body, headers=headers).json()
    courses = httpx.get(f"{server.url}/v1/courses", headers=headers).json()
    demo = next(c for c in courses if c["title"] == "Parley demo")
    enrol = httpx.post(
        f"{server.url}/v1/courses/{demo['id']}/tutors",
        json={"user_id": tutor["id"]},
        headers=headers,
    )
    enrol.raise_for_status()
    return email, password


def test_a_tutor_watches_a_learner_s_session_live(server: Server, tmp_path: Path) -> None:
    require_chromium()
    email, password = make_tutor(server)
    mic = microphone_wav(JFK, tmp_path / "mic.wav", lead_s=LEAD_S, tail_s=3.0)
    with chromium(mic) as learner, chromium(None) as tutor:
        wait_l, wait_t = WebDriverWait(learner, 120), WebDriverWait(tutor, 120)
        tutor.get(f"{server.url}/#/login")
        wait_t.until(seen.visibility_of_element_located(by_id("login-email"))).send_keys(email)
        tutor.find_element(*by_id("login-password")).send_keys(password)
        tutor.find_element(*by_id("login-submit")).click()
        wait_t.until(seen.visibility_of_element_located(by_id("nav-tutor"))).click()

        start_recording(learner, server, wait_l)

        wait_t.until(seen.element_to_be_clickable(by_id("live-session-row"))).click()
        wait_t.until(
            lambda d: "americans" in d.find_element(*by_id("live-transcript")).text.lower()
        )
        assert "Lee" in tutor.find_element(*by_id("live-session-row")).text
        assert console_errors(tutor) == []
