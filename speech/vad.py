"""Energy-based voice activity: voiced 30 ms frames, so that silence costs no inference.

Whisper itself is the judge of speech (its no-speech probability); this gate only has to
be cheap and never miss speech. A frame is voiced when its RMS level is well above an
adaptive noise floor that drops at once to a quieter frame and creeps up slowly, so a
steady background (fan, hiss, white noise) soon stops counting as speech.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from speech.audio import SAMPLE_RATE, Samples
from speech.transcript import Word

FRAME_SAMPLES = SAMPLE_RATE * 30 // 1000
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
_FLOOR_RISE_DB_PER_S = 6.0
_FLOOR_MIN_DBFS = -80.0
# Attention word times are ~0.1 s exact.
_WORD_SLACK_S = 0.1
# An onset's level is its loudest within this many frames (0.21 s): a word's first frame
# is often soft.
_ONSET_PEAK_FRAMES = 7


def frame_levels_db(audio: Samples) -> npt.NDArray[np.float64]:
    """RMS level in dB full scale of each whole 30 ms frame."""
    frames = len(audio) // FRAME_SAMPLES
    if frames == 0:
        return np.zeros(0)
    blocks = audio[: frames * FRAME_SAMPLES].astype(np.float64).reshape(frames, FRAME_SAMPLES)
    rms = np.sqrt(np.mean(blocks * blocks, axis=1))
    levels: npt.NDArray[np.float64] = 20.0 * np.log10(np.maximum(rms, 1e-6))
    return levels


class VoiceActivity:
    """Streaming voiced/unvoiced decisions for consecutive 30 ms frames of 16 kHz audio."""

    def __init__(self, *, threshold_db: float = 9.0, min_level_dbfs: float = -55.0) -> None:
        self.threshold_db = threshold_db
        self.min_level_dbfs = min_level_dbfs
        self._floor_db: float | None = None
        self._pending = np.zeros(0, dtype=np.float32)
        self._voiced: list[bool] = []
        self._levels: list[float] = []

    @property
    def frames(self) -> int:
        return len(self._voiced)

    def feed(self, audio: Samples) -> None:
        audio = np.concatenate([self._pending, audio]) if len(self._pending) else audio
        whole = len(audio) - len(audio) % FRAME_SAMPLES
        self._pending = audio[whole:].copy()
        rise = _FLOOR_RISE_DB_PER_S * FRAME_S
        for level in frame_levels_db(audio[:whole]):
            floor = level if self._floor_db is None else min(level, self._floor_db + rise)
            self._floor_db = max(floor, _FLOOR_MIN_DBFS)
            voiced = level >= self.min_level_dbfs and level >= self._floor_db + self.threshold_db
            self._voiced.append(bool(voiced))
            self._levels.append(float(level))

    def voiced(self, frame: int) -> bool:
        """Whether frame number `frame` (0-based, decided already) was voiced."""
        return self._voiced[frame]

    def any_voiced(self, start_s: float, end_s: float | None = None) -> bool:
        """Whether a frame overlapping [start_s, end_s) of the stream was voiced."""
        first = max(0, int(start_s / FRAME_S))
        last = len(self._voiced) if end_s is None else int(np.ceil(end_s / FRAME_S))
        return any(self._voiced[first:last])

    def onset_after(self, start_s: float, quiet_s: float, rise_db: float) -> float | None:
        """Start of the latest voiced stretch after `start_s` that rises `rise_db` over
        the loudest of the `quiet_s` before it: speech after a pause, where the voiced
        flags alone see a noisy room's pause as speech. The stream's start is quiet."""
        need = max(1, round(quiet_s / FRAME_S))
        first = max(0, int(np.ceil(start_s / FRAME_S)))
        levels, voiced = self._levels, self._voiced
        for frame in range(len(voiced) - 1, first - 1, -1):
            if not voiced[frame]:
                continue
            ahead = slice(frame, frame + _ONSET_PEAK_FRAMES)
            before = levels[max(0, frame - need) : frame]
            if not before or max(before) <= max(levels[ahead]) - rise_db:
                return frame * FRAME_S
        return None

    def over_voice(self, words: tuple[Word, ...] | list[Word]) -> list[Word]:
        """The words over audio with a voiced frame: Whisper fills silence after a
        sentence with "Thank you." and such, where the gate heard nothing."""
        slack = _WORD_SLACK_S
        return [w for w in words if self.any_voiced(w.start - slack, w.end + slack)]

    def voiced_seconds(self, start_s: float = 0.0, end_s: float | None = None) -> float:
        """Voiced time in the frames overlapping [start_s, end_s) (all frames by default)."""
        first = max(0, int(start_s / FRAME_S))
        last = len(self._voiced) if end_s is None else int(np.ceil(end_s / FRAME_S))
        return sum(self._voiced[first:last]) * FRAME_S


def has_speech(audio: Samples, *, threshold_db: float = 9.0, min_level_dbfs: float = -55.0) -> bool:
    """One-shot check of a whole clip."""
    vad = VoiceActivity(threshold_db=threshold_db, min_level_dbfs=min_level_dbfs)
    vad.feed(audio)
    return vad.any_voiced(0.0)
