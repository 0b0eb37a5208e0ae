"""One real Whisper model for the whole speech test run, and the real recordings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speech.audio import Samples, load_wav_16k
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from tests.conftest import SPEECH

NATIVE = SPEECH / "native"
OCEAN = SPEECH / "speechocean762"
JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


@pytest.fixture(scope="session")
def model() -> Iterator[SpeechModel]:
    loaded = SpeechModel.load(SpeechSettings(cpu_threads=2))
    yield loaded
    loaded.close()


@pytest.fixture(scope="session")
def jfk() -> Samples:
    return load_wav_16k(NATIVE / "jfk.wav")


@pytest.fixture(scope="session")
def manifest() -> dict[str, str]:
    lines = (NATIVE / "manifest.jsonl").read_text().splitlines()
    return {entry["file"]: entry["text"] for entry in map(json.loads, lines)}


@pytest.fixture(scope="session")
def ocean_scores() -> dict[str, Any]:
    scores: dict[str, Any] = json.loads((OCEAN / "scores.json").read_text())
    return scores


def ocean_wav(utterance: str) -> Path:
    return OCEAN / "wav" / f"{utterance}.wav"
