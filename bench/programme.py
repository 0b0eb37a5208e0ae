"""The benchmark programme: native clips joined by pauses, with reference word timings.

Word timings: each clip is transcribed offline, on its own, by faster-whisper's standard
`transcribe(word_timestamps=True)` (the full 30 s window, beam 5, DTW over cross-attention)
with the same tiny.en model. This is independent of the streaming server under test (its
final words for a 40 s stream come from the interim passes being measured), is the most
accurate alignment available offline here, and is ~0.1 s exact, which bounds the error of
every latency below.
"""

from __future__ import annotations

import itertools
import json
import math
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from speech.decoding import align_words, encode
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.text import normalize_text

NATIVE = Path(__file__).resolve().parents[2] / "shared" / "speech" / "native"
PROGRAMME = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "sense_and_sensibility_01_austen_64kb-0920.wav",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
)
RATE = 16_000
CHUNK_S = 0.1
CHUNK_BYTES = int(RATE * CHUNK_S) * 2  # pcm_s16le mono
PAUSE_GAP_S = 0.4  # a silence this long between two words counts as a pause


@dataclass(frozen=True, slots=True)
class RefWord:
    """A normalised reference word, with times in seconds from the start of the stream."""

    text: str
    start: float
    end: float
    after_pause: bool = False
    before_pause: bool = False


@dataclass(frozen=True)
class Programme:
    pcm: bytes
    text: str
    words: tuple[RefWord, ...]

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / RATE

    @property
    def chunks(self) -> int:
        return -(-len(self.pcm) // CHUNK_BYTES)


def read_pcm(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        if (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) != (RATE, 2, 1):
            raise ValueError(f"{path}: want 16 kHz 16-bit mono")
        return wav.readframes(wav.getnframes())


def manifest() -> dict[str, str]:
    lines = (NATIVE / "manifest.jsonl").read_text().splitlines()
    return {e["file"]: e["text"] for e in map(json.loads, lines)}


def voiced_frames(pcm: bytes) -> npt.NDArray[np.bool_]:
    """Voiced 10 ms frames: 12 dB over the clip's 10th-percentile level (its noise floor)."""
    audio = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    levels = 20 * np.log10(np.maximum(np.sqrt((frames * frames).mean(axis=1)), 1e-6))
    voiced: npt.NDArray[np.bool_] = levels >= np.percentile(levels, 10) + 12
    return voiced


def forced_alignment(model: SpeechModel, pcm: bytes, text: str) -> list[tuple[str, float, float]]:
    """Times of the words of `text` in `pcm`: Whisper's cross-attention alignment of the
    known text (no recognition), then snapped to voiced frames, since the alignment
    stretches words over the pauses next to them ("ask" 2.3-3.9 s in jfk.wav)."""
    audio = (np.frombuffer(pcm, "<i2") / 32768).astype(np.float32)
    tokens = model.tokenizer.encode(" " + text.strip())
    words = align_words(model, encode(model, audio), tokens)
    voiced = voiced_frames(pcm)
    out: list[tuple[str, float, float]] = []
    prev_end = 0
    for w in words:
        end = min(len(voiced), math.ceil(w.end * 100))
        run = np.nonzero(voiced[prev_end:end])[0]
        if len(run):  # last voiced frame before the aligned end; first one after the last word
            end, start = prev_end + int(run[-1]) + 1, prev_end + int(run[0])
        else:
            start = max(prev_end, min(end - 1, int(w.start * 100)))
        prev_end = end
        for token in normalize_text(w.word):
            out.append((token, start / 100, end / 100))
    return out


def build_programme(files: tuple[str, ...], pause_s: float) -> Programme:
    """Join `files` with `pause_s` of near-silence between them."""
    texts = manifest()
    model = SpeechModel.load(SpeechSettings())
    clips: dict[str, tuple[bytes, list[tuple[str, float, float]]]] = {}
    try:
        for name in set(files):
            pcm = read_pcm(NATIVE / name)
            clips[name] = (pcm, forced_alignment(model, pcm, texts[name]))
    finally:
        model.close()
    return _joined(files, clips, _noise(pause_s), texts)


def _noise(pause_s: float) -> bytes:
    """`pause_s` of near-silence (-80 dBFS noise, as a microphone gives)."""
    return np.random.default_rng(7).normal(0, 3, int(pause_s * RATE)).astype("<i2").tobytes()


def shifted(programme: Programme, fraction: float, pause_s: float) -> Programme:
    """`programme` started at `fraction` of its length and run round to where it started,
    with `pause_s` of near-silence at the seam: cut in the middle of the pause between two
    words nearest that point (a cut between words spoken together would split sounds).
    Sessions streaming the shifts i/N of one programme hold each of its passages about
    equally often in each part of the session, so that a later part of the session is
    slower only if the node is."""
    words = programme.words
    cuts = [
        ((a.end + b.start) / 2, k)
        for k, (a, b) in enumerate(itertools.pairwise(words), 1)
        if b.start - a.end >= PAUSE_GAP_S
    ]
    if not 0 < fraction < 1 or not cuts:
        return programme
    cut_s, k = min(cuts, key=lambda c: abs(c[0] - fraction * programme.duration_s))
    cut = int(cut_s * RATE) * 2
    noise = _noise(pause_s)
    moved_s = (len(programme.pcm) - cut + len(noise)) / 2 / RATE
    start_s = cut / 2 / RATE
    order = [
        *(RefWord(w.text, w.start - start_s, w.end - start_s) for w in words[k:]),
        *(RefWord(w.text, w.start + moved_s, w.end + moved_s) for w in words[:k]),
    ]
    pcm = programme.pcm[cut:] + noise + programme.pcm[:cut]
    return Programme(pcm, " ".join(w.text for w in order), _marked(order))


def _marked(words: Sequence[RefWord]) -> tuple[RefWord, ...]:
    """`words` with the pauses before and after each marked."""
    marked = []
    for i, w in enumerate(words):
        gap_before = w.start - words[i - 1].end if i else 99.0
        gap_after = words[i + 1].start - w.end if i + 1 < len(words) else 99.0
        marked.append(
            RefWord(w.text, w.start, w.end, gap_before >= PAUSE_GAP_S, gap_after >= PAUSE_GAP_S)
        )
    return tuple(marked)


def _joined(
    files: tuple[str, ...],
    clips: dict[str, tuple[bytes, list[tuple[str, float, float]]]],
    noise: bytes,
    texts: dict[str, str],
) -> Programme:
    parts: list[bytes] = []
    words: list[RefWord] = []
    offset = 0.0
    for i, name in enumerate(files):
        if i:
            parts.append(noise)
            offset += len(noise) / 2 / RATE
        pcm, aligned = clips[name]
        for token, start, end in aligned:
            words.append(RefWord(token, offset + start, offset + end))
        parts.append(pcm)
        offset += len(pcm) / 2 / RATE
    text = " ".join(texts[name] for name in files)
    return Programme(b"".join(parts), text, _marked(words))
