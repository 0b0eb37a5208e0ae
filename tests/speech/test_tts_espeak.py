"""espeak-ng model audio: Parley's own recogniser hears the reference text in it, and a
missing, slow or misconfigured engine fails with an error that says what to do."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from speech.alignment import align
from speech.audio import SAMPLE_RATE, Samples, read_wav
from speech.model import SpeechModel
from speech.samples import JFK
from speech.streaming import StreamingTranscriber
from speech.text import normalize_text
from speech.tts.espeak import EspeakVoice, words_per_minute
from speech.tts.settings import TtsSettings
from speech.tts.voice import TtsUnavailable, UnknownVoice
from tests.services import require_program

# The demo exercise's text: tiny.en hears 21 of its 22 words in espeak-ng's voice here;
# two misheard words (9 %) is the most a working engine is allowed.
MAX_WER = 0.1


def word_error_rate(reference: str, heard: str) -> float:
    ref = normalize_text(reference)
    pairs = align(ref, normalize_text(heard))
    return sum(p.op != "match" for p in pairs) / len(ref)


async def heard(model: SpeechModel, audio: Samples) -> str:
    transcriber = StreamingTranscriber(model)
    transcriber.feed(audio)
    final = await asyncio.wait_for(transcriber.finalize(), 60)
    return final.text


def stand_in(folder: Path, script: str, **settings: Any) -> EspeakVoice:
    """An EspeakVoice whose binary is a shell script running `script`."""
    binary = folder / "espeak-ng"
    binary.write_text(f"#!/bin/sh\n{script}\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    return EspeakVoice(TtsSettings(espeak_path=str(binary), **settings))


@pytest.fixture
def espeak() -> EspeakVoice:
    require_program("espeak-ng")
    return EspeakVoice(TtsSettings())


async def test_recogniser_hears_the_reference_text(model: SpeechModel, espeak: EspeakVoice) -> None:
    wav = await espeak.synthesize(JFK.text, voice="en-us", rate=100)

    audio = read_wav(wav)
    assert audio.sample_rate == SAMPLE_RATE
    assert 4 < audio.duration_s < 12
    text = await heard(model, audio.samples)
    assert word_error_rate(JFK.text, text) <= MAX_WER, text


async def test_a_slower_rate_is_slower_and_still_heard(
    model: SpeechModel, espeak: EspeakVoice
) -> None:
    normal = read_wav(await espeak.synthesize(JFK.text, voice="en-us", rate=100))
    slow = read_wav(await espeak.synthesize(JFK.text, voice="en-us", rate=70))

    assert slow.duration_s > normal.duration_s * 1.2
    text = await heard(model, slow.samples)
    assert word_error_rate(JFK.text, text) <= MAX_WER, text


async def test_voices_sound_different(espeak: EspeakVoice) -> None:
    us = await espeak.synthesize("tomato", voice="en-us", rate=100)
    gb = await espeak.synthesize("tomato", voice="en-gb", rate=100)
    assert us != gb


async def test_version_names_the_installed_release(espeak: EspeakVoice) -> None:
    version = await espeak.version()
    assert version[0].isdigit() and "." in version


def test_rate_maps_to_words_per_minute_within_what_espeak_takes() -> None:
    assert words_per_minute(100) == 175
    assert words_per_minute(50) == 88
    assert words_per_minute(200) == 350


async def test_missing_binary_says_to_install_espeak(tmp_path: Path) -> None:
    voice = EspeakVoice(TtsSettings(espeak_path=str(tmp_path / "no-such-espeak-ng")))
    with pytest.raises(TtsUnavailable, match="model audio unavailable: install espeak-ng"):
        await voice.version()
    with pytest.raises(TtsUnavailable, match="install espeak-ng"):
        await voice.synthesize("hello", voice="en-us", rate=100)


async def test_unknown_voice(espeak: EspeakVoice) -> None:
    with pytest.raises(UnknownVoice) as caught:
        await espeak.synthesize("hello", voice="xx-nowhere", rate=100)
    assert caught.value.voice == "xx-nowhere"


@pytest.mark.parametrize("name", ["--help", "../../etc/passwd", "en us", ""])
async def test_a_voice_that_is_no_name_never_reaches_the_binary(tmp_path: Path, name: str) -> None:
    # A binary that would leave a mark if it ran.
    mark = tmp_path / "ran"
    voice = stand_in(tmp_path, f"touch {mark}")
    with pytest.raises(UnknownVoice):
        await voice.synthesize("hello", voice=name, rate=100)
    assert not mark.exists()


async def test_a_hung_engine_is_killed_at_the_time_limit(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    voice = stand_in(tmp_path, f"echo $$ > {pid_file}; exec sleep 30", timeout_s=0.5)

    with pytest.raises(TtsUnavailable, match=r"took over 0\.5 s"):
        await asyncio.wait_for(voice.synthesize("hello", voice="en-us", rate=100), 10)
    pid = int(pid_file.read_text())
    # Killed and reaped: no such process any more.
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_concurrency_is_bounded(tmp_path: Path) -> None:
    # Each run appends "start" then "end": with one slot they never interleave.
    log = tmp_path / "log"
    body = f"echo start >> {log}; sleep 0.2; echo end >> {log}; exit 1"
    voice = stand_in(tmp_path, body, max_concurrent=1)

    results = await asyncio.gather(
        *(voice.synthesize(f"text {i}", voice="en-us", rate=100) for i in range(3)),
        return_exceptions=True,
    )
    assert all(isinstance(r, Exception) for r in results)
    assert log.read_text().split() == ["start", "end"] * 3
