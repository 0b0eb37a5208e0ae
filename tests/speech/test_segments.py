"""Where the final transcript is cut: at pauses, from the voice gate, however audio arrives."""

from __future__ import annotations

import numpy as np

from speech.audio import SAMPLE_RATE
from speech.segments import MAX_SEGMENT_S, Segmenter
from speech.vad import FRAME_S, VoiceActivity

_RNG = np.random.default_rng(7)


def sound(seconds: float) -> np.ndarray:
    return _RNG.uniform(-0.3, 0.3, round(seconds * SAMPLE_RATE)).astype(np.float32)


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * SAMPLE_RATE), np.float32)


def cuts_s(audio: np.ndarray, chunk: int = 1_600) -> list[float]:
    """Cut times (s) of `quiet(0.5)` (the gate learns the room) and `audio`, minus 0.5 s."""
    audio = np.concatenate([quiet(0.5), audio])
    vad = VoiceActivity()
    segmenter = Segmenter(vad)
    for start in range(0, len(audio), chunk):
        vad.feed(audio[start : start + chunk])
        segmenter.advance()
    return [round(c * FRAME_S - 0.5, 2) for c in segmenter.cuts]


def test_cuts_in_pauses_after_enough_speech() -> None:
    audio = np.concatenate([sound(3), quiet(0.6), sound(1), quiet(0.6), sound(3), quiet(0.2)])
    # The second pause follows a 1.3 s segment: too short to stand alone.
    (cut,) = cuts_s(audio)
    assert 3.0 < cut < 3.6


def test_short_gaps_are_not_pauses() -> None:
    audio = np.concatenate([sound(3), quiet(0.3), sound(3), quiet(0.3), sound(3)])
    assert cuts_s(audio) == []


def test_speech_without_pauses_is_cut_in_its_longest_gap() -> None:
    parts = [sound(5), quiet(0.2)] * 3 + [sound(5), quiet(0.35)] + [sound(5), quiet(0.2)] * 3
    cuts = cuts_s(np.concatenate(parts))
    assert cuts and cuts[0] <= MAX_SEGMENT_S
    gap_start = 4 * 5 + 3 * 0.2
    assert gap_start < cuts[0] < gap_start + 0.35


def test_cuts_do_not_depend_on_how_audio_arrives() -> None:
    audio = np.concatenate([sound(2.5), quiet(0.7), sound(4), quiet(1.0), sound(2), quiet(0.5)])
    assert cuts_s(audio, 1_600) == cuts_s(audio, 777) == cuts_s(audio, len(audio))
    assert len(cuts_s(audio)) == 3  # the last in the trailing pause


def test_last_segment_leaves_out_trailing_quiet() -> None:
    vad = VoiceActivity()
    segmenter = Segmenter(vad)
    vad.feed(np.concatenate([quiet(0.5), sound(3), quiet(2)]))
    segmenter.advance()
    ((start, end),) = segmenter.segments(vad.frames)
    assert start == 0 and 3.5 < end * FRAME_S < 4.0
