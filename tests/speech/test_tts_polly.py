"""The Amazon Polly provider against moto's Polly server.

moto checks the request (output format, sample rate, SSML text type, voice) but answers
eight zero bytes instead of speech, so these tests prove the request and the WAV framing,
not the sound; the sound is Polly's.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

import pytest
from pydantic import SecretStr

from speech.audio import read_wav
from speech.tts.polly import MAX_CHARS, PollyVoice, pieces, ssml
from speech.tts.settings import TtsSettings
from speech.tts.voice import TtsUnavailable, UnknownVoice

MOTO_SAMPLES = 4  # moto's answer: 8 bytes of 16-bit PCM


def polly_settings(endpoint: str) -> TtsSettings:
    return TtsSettings(
        provider="polly",
        polly_endpoint_url=endpoint,
        polly_access_key_id=SecretStr("testing"),
        polly_secret_access_key=SecretStr("testing"),
        timeout_s=5,
    )


async def test_speech_comes_back_as_16k_wav(moto_endpoint: str) -> None:
    voice = PollyVoice(polly_settings(moto_endpoint))
    try:
        wav = await voice.synthesize("Ask not what your country can do.", voice="Joanna", rate=80)
    finally:
        await voice.close()
    audio = read_wav(wav)
    assert audio.sample_rate == 16_000
    assert len(audio.samples) == MOTO_SAMPLES


async def test_a_long_text_goes_in_pieces_whose_audio_is_joined(moto_endpoint: str) -> None:
    text = " ".join(["country"] * 500)  # 3999 characters: more than one request takes
    voice = PollyVoice(polly_settings(moto_endpoint))
    try:
        wav = await voice.synthesize(text, voice="Joanna", rate=100)
    finally:
        await voice.close()
    assert len(read_wav(wav).samples) == MOTO_SAMPLES * len(pieces(text)) == MOTO_SAMPLES * 3


async def test_unknown_voice(moto_endpoint: str) -> None:
    voice = PollyVoice(polly_settings(moto_endpoint))
    try:
        with pytest.raises(UnknownVoice):
            await voice.synthesize("hello", voice="Nobody", rate=100)
    finally:
        await voice.close()


async def test_an_unreachable_service_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = polly_settings(f"http://127.0.0.1:{port}").model_copy(update={"timeout_s": 1})
    voice = PollyVoice(settings)
    try:
        with pytest.raises(TtsUnavailable, match="Amazon Polly"):
            await voice.synthesize("hello", voice="Joanna", rate=100)
    finally:
        await voice.close()


def test_ssml_carries_the_rate_and_escapes_the_text() -> None:
    root = ET.fromstring(ssml('Say "<b>" & go', 75))
    prosody = root.find("prosody")
    assert prosody is not None and prosody.get("rate") == "75%"
    assert prosody.text == 'Say "<b>" & go'


def test_pieces_cut_at_spaces_within_the_limit() -> None:
    text = " ".join(f"word{i}" for i in range(1000))
    cut = pieces(text)
    assert all(len(p) <= MAX_CHARS for p in cut)
    assert " ".join(cut) == text
    assert pieces("one   two") == ["one two"]
    assert pieces("") == []
