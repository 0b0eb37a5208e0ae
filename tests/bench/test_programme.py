"""The load benchmark's shifted programmes: the same words and audio, started elsewhere."""

from __future__ import annotations

import numpy as np

from bench.programme import RATE, Programme, RefWord, shifted


def programme(gaps_s: tuple[float, float] = (0.5, 0.5)) -> Programme:
    """Three words, each a second of one sample value, `gaps_s` apart."""
    pcm, words = b"", []
    for i, text in enumerate(("one", "two", "three")):
        start = len(pcm) / 2 / RATE
        pcm += np.full(RATE, i + 1, "<i2").tobytes()
        words.append(RefWord(text, start, start + 1.0))
        if i < 2:
            pcm += np.zeros(int(RATE * gaps_s[i]), "<i2").tobytes()
    return Programme(pcm, "one two three", tuple(words))


def test_a_shift_starts_at_the_nearest_gap_and_runs_round() -> None:
    base = programme()
    moved = shifted(base, 0.4, pause_s=1.0)  # 1.6 s into 4 s: nearest gap 1-1.5 s
    assert [w.text for w in moved.words] == ["two", "three", "one"]
    assert moved.text == "two three one"
    assert moved.duration_s == base.duration_s + 1.0
    samples = np.frombuffer(moved.pcm, "<i2")
    for word, value in zip(moved.words, (2, 3, 1), strict=True):
        middle = int((word.start + word.end) / 2 * RATE)
        assert samples[middle] == value  # each word's time is where its audio is
    assert moved.words[2].after_pause and moved.words[1].before_pause  # the seam


def test_no_shift_is_the_programme_itself() -> None:
    base = programme()
    assert shifted(base, 0.0, pause_s=1.0) is base


def test_a_shift_cuts_only_in_a_pause() -> None:
    moved = shifted(programme((0.1, 0.5)), 0.3, pause_s=1.0)  # nearest gap: 0.1 s at 1 s
    assert [w.text for w in moved.words] == ["three", "one", "two"]
