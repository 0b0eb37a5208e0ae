"""Audio in and out: pcm_s16le decoding and resampling to 16 kHz float32, and WAV files.

Everything downstream (voice activity, Whisper) works on mono float32 at 16 kHz in [-1, 1].
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import soxr

from speech.errors import AudioFormatError

SAMPLE_RATE = 16_000
MIN_INPUT_RATE = 8_000
MAX_INPUT_RATE = 48_000

Samples = npt.NDArray[np.float32]


def check_rate(sample_rate: int) -> None:
    if not MIN_INPUT_RATE <= sample_rate <= MAX_INPUT_RATE:
        raise AudioFormatError(
            f"unsupported sample rate {sample_rate} Hz: pcm_s16le mono at "
            f"{MIN_INPUT_RATE}-{MAX_INPUT_RATE} Hz is accepted"
        )


def pcm16_to_float(data: bytes) -> Samples:
    """Little-endian signed 16-bit samples to float32 in [-1, 1); `data` must be even-sized."""
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: Samples) -> bytes:
    clipped = np.clip(audio, -1.0, 32767.0 / 32768.0)
    return (clipped * 32768.0).round().astype("<i2").tobytes()


class PcmDecoder:
    """Turns a stream of pcm_s16le mono chunks at `sample_rate` into float32 at 16 kHz.

    Chunks may split a sample between them (a websocket frame of odd length): the dangling
    byte is kept for the next chunk. The resampler keeps its filter state across chunks, so
    the output is the same as resampling the whole stream at once.
    """

    def __init__(self, sample_rate: int) -> None:
        check_rate(sample_rate)
        self.sample_rate = sample_rate
        self._carry = b""
        self._stream = (
            None
            if sample_rate == SAMPLE_RATE
            else soxr.ResampleStream(sample_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        )
        self.bytes_in = 0

    def feed(self, data: bytes) -> Samples:
        self.bytes_in += len(data)
        data = self._carry + data
        usable = len(data) - len(data) % 2
        self._carry = data[usable:]
        samples = pcm16_to_float(data[:usable])
        if self._stream is None:
            return samples
        return np.asarray(self._stream.resample_chunk(samples), dtype=np.float32)

    def flush(self) -> Samples:
        """End of stream: the resampler's delayed tail; a dangling odd byte is dropped."""
        self._carry = b""
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        tail = self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        return np.asarray(tail, dtype=np.float32)


def resample(audio: Samples, sample_rate: int) -> Samples:
    """One-shot resampling of float32 mono audio to 16 kHz."""
    check_rate(sample_rate)
    if sample_rate == SAMPLE_RATE:
        return audio.astype(np.float32, copy=False)
    return np.asarray(soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ"), np.float32)


def decode_pcm16(data: bytes, sample_rate: int) -> Samples:
    """A whole pcm_s16le mono buffer to float32 at 16 kHz (a dangling odd byte is dropped)."""
    decoder = PcmDecoder(sample_rate)
    head = decoder.feed(data)
    return np.concatenate([head, decoder.flush()])


@dataclass(frozen=True, slots=True)
class WavAudio:
    """A WAV file's samples as float32 mono at its own `sample_rate`."""

    samples: Samples
    sample_rate: int

    def to_16k(self) -> Samples:
        return resample(self.samples, self.sample_rate)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def read_wav(source: Path | str | bytes | BinaryIO) -> WavAudio:
    """Read a 16-bit mono WAV; anything else raises `AudioFormatError`."""
    stream: Path | str | BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        with wave.open(stream if not isinstance(stream, Path) else str(stream), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"not a readable WAV file: {exc}") from exc
    if channels != 1:
        raise AudioFormatError(f"{channels}-channel WAV: only mono is accepted")
    if width != 2:
        raise AudioFormatError(f"{8 * width}-bit WAV: only 16-bit PCM is accepted")
    check_rate(rate)
    return WavAudio(pcm16_to_float(frames[: len(frames) - len(frames) % 2]), rate)


def load_wav_16k(source: Path | str | bytes | BinaryIO) -> Samples:
    return read_wav(source).to_16k()


def write_wav(dest: Path | str | BinaryIO, audio: Samples, sample_rate: int = SAMPLE_RATE) -> None:
    """Write float32 mono audio as a 16-bit PCM WAV file."""
    target: str | BinaryIO = str(dest) if isinstance(dest, Path) else dest
    with wave.open(target, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(float_to_pcm16(audio))


def wav_bytes(audio: Samples, sample_rate: int = SAMPLE_RATE) -> bytes:
    """The WAV file for `audio` in memory (what the blob store keeps)."""
    buffer = io.BytesIO()
    write_wav(buffer, audio, sample_rate)
    return buffer.getvalue()
