"""Debian's Chromium, headless, driven through its own chromedriver (Selenium), with a fake
microphone playing a WAV file: what the browser tests of the web app run on."""

from __future__ import annotations

import os
import shutil
import tempfile
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soxr
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from speech.audio import load_wav_16k

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# A phone-sized screen, for Emulation.setDeviceMetricsOverride.
PHONE = {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}


def require_chromium() -> None:
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return
    message = "Debian's chromium and chromium-driver are not installed"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: .ci/run installs them)")
    pytest.skip(message)


def microphone_wav(source: Path, target: Path, *, lead_s: float, tail_s: float) -> Path:
    """`source` at 48 kHz (the rate Chromium's audio runs at), with silence before (the
    time the page takes to start recording) and after (room to press stop)."""
    audio = soxr.resample(load_wav_16k(source), 16_000, 48_000)
    silence = np.zeros(int(48_000 * lead_s), dtype=np.float32)
    padded = np.concatenate([silence, audio, np.zeros(int(48_000 * tail_s), np.float32)])
    pcm = (np.clip(padded, -1, 1) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48_000)
        out.writeframes(pcm.tobytes())
    return target


@contextmanager
def chromium(
    microphone: Path | None,
    *,
    allow_microphone: bool = True,
    console_allows: tuple[str, ...] = (),
    downloads: Path | None = None,
) -> Iterator[webdriver.Chrome]:
    """A browser for one test. When the test's block ends without an error, the console
    must hold no SEVERE entry (a script error, a refused resource, a failed request)
    beyond those containing one of `console_allows`: a page that works but throws is a
    failure too. `downloads`: where downloaded files go (headless Chromium refuses them
    otherwise)."""
    # Selenium Manager must not look for a browser or driver to download: both are given.
    os.environ.setdefault("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="parley-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={profile}",
        "--use-fake-device-for-media-stream",
    ):
        options.add_argument(flag)
    prefs: dict[str, object] = {}
    if allow_microphone:
        options.add_argument("--use-fake-ui-for-media-stream")
    else:
        prefs["profile.default_content_setting_values.media_stream_mic"] = 2
    if downloads is not None:
        prefs["download.default_directory"] = str(downloads)
        prefs["download.prompt_for_download"] = False
    if prefs:
        options.add_experimental_option("prefs", prefs)
    if microphone is not None:
        options.add_argument(f"--use-file-for-fake-audio-capture={microphone}%noloop")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    if downloads is not None:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
    try:
        yield driver
        severe = [e for e in console_errors(driver) if not any(a in e for a in console_allows)]
        assert severe == [], f"errors in the browser's console: {severe}"
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The SEVERE entries logged since the last call (reading the log empties it)."""
    entries: list[dict[str, str]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [e["message"] for e in entries if e["level"] == "SEVERE"]


def fits(driver: webdriver.Chrome) -> bool:
    """Nothing wider than the screen: no sideways scrolling."""
    return bool(
        driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    )
