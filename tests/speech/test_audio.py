from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from speech.audio import (
    PcmDecoder,
    decode_pcm16,
    float_to_pcm16,
    read_wav,
    wav_bytes,
)
from speech.errors import AudioFormatError
from speech.vad import VoiceActivity, has_speech


def tone(rate: int, seconds: float, hz: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def dominant_hz(audio: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(audio))
    return float(np.fft.rfftfreq(len(audio), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 44_100, 48_000])
def test_any_supported_rate_becomes_16k(rate: int) -> None:
    pcm = float_to_pcm16(tone(rate, 1.0))
    out = decode_pcm16(pcm, rate)
    assert out.dtype == np.float32
    assert abs(len(out) - 16_000) <= 2
    assert dominant_hz(out) == pytest.approx(440.0, abs=2.0)


@pytest.mark.parametrize("rate", [8_000, 44_100])
def test_chunks_split_mid_sample_decode_like_the_whole(rate: int) -> None:
    pcm = float_to_pcm16(tone(rate, 0.5, hz=300.0))
    decoder = PcmDecoder(rate)
    pieces, position = [], 0
    for size in [1, 333, 2, 4095, 7, 1000] * 20:
        pieces.append(decoder.feed(pcm[position : position + size]))
        position += size
    pieces.append(decoder.feed(pcm[position:]))
    pieces.append(decoder.flush())
    streamed = np.concatenate(pieces)
    whole = decode_pcm16(pcm, rate)
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-4)


@pytest.mark.parametrize("rate", [0, 4_000, 7_999, 48_001, 96_000])
def test_unsupported_rate_is_rejected(rate: int) -> None:
    with pytest.raises(AudioFormatError, match="unsupported sample rate"):
        PcmDecoder(rate)


def test_wav_round_trip() -> None:
    audio = tone(16_000, 0.25)
    back = read_wav(wav_bytes(audio))
    assert back.sample_rate == 16_000
    np.testing.assert_allclose(back.samples, audio, atol=1 / 32768)


def _wav(channels: int, width: int, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\0" * channels * width * 100)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("channels", "width", "rate", "message"),
    [(2, 2, 16_000, "mono"), (1, 1, 16_000, "16-bit"), (1, 2, 96_000, "sample rate")],
)
def test_wav_other_than_16bit_mono_is_rejected(
    channels: int, width: int, rate: int, message: str
) -> None:
    with pytest.raises(AudioFormatError, match=message):
        read_wav(_wav(channels, width, rate))


def test_garbage_is_not_a_wav() -> None:
    with pytest.raises(AudioFormatError):
        read_wav(b"RIFF garbage, not a wave file at all")


def test_voice_activity() -> None:
    rng = np.random.default_rng(7)
    silence = np.zeros(16_000, np.float32)
    noise = (0.05 * rng.standard_normal(16_000 * 3)).astype(np.float32)
    assert not has_speech(silence)
    vad = VoiceActivity()
    vad.feed(noise)
    # Steady noise is background: only its first instants may count as voiced.
    assert vad.voiced_seconds() < 0.1
    burst = np.concatenate([silence * 0 + 0.001, tone(16_000, 0.5), silence])
    vad = VoiceActivity()
    vad.feed(burst)
    assert vad.any_voiced(1.0, 1.5)
    assert not vad.any_voiced(1.6)


def test_onset_after_a_pause_in_a_noisy_room() -> None:
    """Babble 25 dB under the voice keeps the gate open through the pause; the onset is
    where the level rises well over the quiet before it."""
    rng = np.random.default_rng(3)
    quiet = (0.001 * rng.standard_normal(16_000)).astype(np.float32)
    babble = (0.01 * rng.standard_normal(8_000)).astype(np.float32)
    babble *= np.abs(np.sin(np.linspace(0, 40, len(babble)))).astype(np.float32) + 0.5
    audio = np.concatenate([quiet, tone(16_000, 0.5), babble, tone(16_000, 0.5)])
    vad = VoiceActivity()
    vad.feed(audio[: 16_000 + 8_000 + 8_000])
    assert vad.any_voiced(1.6, 2.0)  # the gate hears the babble
    assert vad.onset_after(1.2, 0.3, 12.0) is None  # only the first tone's onset, at 1 s
    assert vad.onset_after(0.9, 0.3, 12.0) == pytest.approx(1.0, abs=0.05)
    vad.feed(audio[32_000:])
    assert vad.onset_after(1.2, 0.3, 12.0) == pytest.approx(2.0, abs=0.05)
    # Mid-word, nothing starts.
    assert vad.onset_after(2.1, 0.3, 12.0) is None
