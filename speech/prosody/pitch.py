"""The pitch (F0) of a recording, in semitones, from Praat's autocorrelation tracker
(`praat-parselmouth`): about 25 ms of CPU per 10 s of audio on one core."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import parselmouth

from speech.audio import SAMPLE_RATE, Samples

STEP_S = 0.01
# Wide enough for a low adult voice and a child's (speechocean762 has many children);
# Praat's defaults are 75-600 Hz.
_FLOOR_HZ = 70.0
_CEILING_HZ = 600.0
_REFERENCE_HZ = 100.0  # semitones are counted from here; only differences are used


@dataclass(frozen=True, slots=True)
class Pitch:
    """F0 every `STEP_S` from `first_s`, in semitones re 100 Hz; NaN where unvoiced."""

    first_s: float
    semitones: npt.NDArray[np.float64]

    def between(self, start: float, end: float) -> npt.NDArray[np.float64]:
        """The voiced values over [start, end) seconds."""
        a = max(0, int(np.ceil((start - self.first_s) / STEP_S)))
        b = max(a, int(np.ceil((end - self.first_s) / STEP_S)))
        part = self.semitones[a:b]
        return part[~np.isnan(part)]


def track(audio16k: Samples) -> Pitch:
    """The pitch of `audio16k` (blocking)."""
    if len(audio16k) < SAMPLE_RATE // 10:
        return Pitch(0.0, np.full(0, np.nan))
    sound = parselmouth.Sound(audio16k.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    pitch = sound.to_pitch_ac(time_step=STEP_S, pitch_floor=_FLOOR_HZ, pitch_ceiling=_CEILING_HZ)
    hz = pitch.selected_array["frequency"].astype(np.float64)
    with np.errstate(divide="ignore"):
        st = np.where(hz > 0, 12.0 * np.log2(np.maximum(hz, 1e-9) / _REFERENCE_HZ), np.nan)
    return Pitch(float(pitch.xs()[0]) if len(hz) else 0.0, st)


def spread(values: npt.NDArray[np.float64]) -> float:
    """The 10th to 90th percentile range (semitones): the span a phrase's intonation
    moves over, robust to the odd octave error of the tracker."""
    low, high = np.percentile(values, [10.0, 90.0])
    return float(high - low)
