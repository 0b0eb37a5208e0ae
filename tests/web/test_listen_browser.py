"""A learner hears the model audio in the browser: the whole text from the Listen button,
and each word they did not say from the button after it. Real Chromium, a real `parley
serve` speaking with Debian's espeak-ng."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from speech.audio import SAMPLE_RATE, load_wav_16k, write_wav
from tests.realtime.client import JFK
from tests.realtime.server import Server, sqlite_server
from tests.services import require_program
from tests.web.browser import chromium, console_errors, microphone_wav, require_chromium
from tests.web.test_learner_e2e import by_id, start_recording

pytestmark = pytest.mark.slow

HEAD_S = 3.2  # of jfk.wav: "And so my fellow Americans", the rest of the text unsaid
LEAD_S = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(tmp_path_factory.mktemp("listen")) as s:
        yield s


def player(driver: Chrome) -> dict[str, object]:
    """The model audio player as loaded: its source, duration (s) and word."""
    state: dict[str, object] = driver.execute_script(
        """const p = document.querySelector('[data-testid="model-audio"]');
        return {src: p.src, duration: p.duration, word: p.dataset.word || '',
                ready: p.readyState >= 1 && !p.hidden};"""
    )
    return state


def loaded(word: str) -> Callable[[Chrome], bool]:
    def check(driver: Chrome) -> bool:
        state = player(driver)
        return bool(state["ready"]) and state["word"] == word

    return check


def test_listen_to_the_text_then_to_each_word_not_said(server: Server, tmp_path: Path) -> None:
    require_chromium()
    require_program("espeak-ng")
    head = tmp_path / "head.wav"
    write_wav(head, load_wav_16k(JFK)[: int(HEAD_S * SAMPLE_RATE)])
    mic = microphone_wav(head, tmp_path / "mic.wav", lead_s=LEAD_S, tail_s=2.0)
    with chromium(mic) as driver:
        wait = WebDriverWait(driver, 120)
        start_recording(driver, server, wait)

        driver.find_element(*by_id("listen")).click()
        wait.until(loaded(""))
        whole = player(driver)
        assert str(whole["src"]).startswith("blob:")
        assert 4.0 < float(str(whole["duration"])) < 12.0

        wait.until(
            lambda d: (
                d.execute_script(
                    "const s = window.parleySession; return s && s.sentBytes / (2 * s.sampleRate)"
                )
                >= LEAD_S + HEAD_S + 1.0
            )
        )
        driver.find_element(*by_id("record-stop")).click()
        wait.until(seen.visibility_of_element_located(by_id("score-overall")))
        words = driver.find_elements(*by_id("word"))
        missed = [w for w in words if w.get_attribute("data-error-type") != "none"]
        buttons = driver.find_elements(*by_id("listen-word"))
        # Each word not said right has its button, right after it; the rest have none.
        assert len(missed) >= 10 and len(buttons) == len(missed)
        for span in missed:
            after = span.find_element(By.XPATH, "following-sibling::*[1]")
            assert after.get_attribute("data-testid") == "listen-word"
            assert span.text in str(after.get_attribute("aria-label"))

        word = missed[-1].text  # "country."
        buttons[-1].click()
        wait.until(loaded(word))
        one = player(driver)
        assert str(one["src"]).startswith("blob:") and one["src"] != whole["src"]
        assert 0.2 < float(str(one["duration"])) < 2.0
        assert console_errors(driver) == []
