"""Where the final transcript cuts an utterance: at pauses, decided from the voice gate.

The final is decoded segment by segment, each with the text of the ones before as its
prompt (as faster-whisper's own `transcribe()` goes from one 30 s window to the next). A
segment ends in the first pause of at least `PAUSE_S` once it holds `MIN_SEGMENT_S`; one
that reaches `MAX_SEGMENT_S` without such a pause ends in its longest shorter pause (or
there, in none). A cut falls `PAUSE_S / 2` into the pause, so both sides keep some of it.

Every cut depends on the audio alone, frame by frame, and is known as soon as that much
audio has arrived: a segment's decode can start while the learner goes on speaking (see
`speech.final_decoder`), and a resumed session, fed the same audio in other chunks, cuts
and decodes it exactly as an uninterrupted one would.

At the end, trailing quiet of `PAUSE_S` or more is no part of the last segment.
"""

from __future__ import annotations

import itertools

from speech.vad import FRAME_S, VoiceActivity

PAUSE_S = 0.45
MIN_SEGMENT_S = 2.0
MAX_SEGMENT_S = 28.0
_MIN_GAP_S = 0.15

_PAUSE_FRAMES = round(PAUSE_S / FRAME_S)
_MIN_FRAMES = round(MIN_SEGMENT_S / FRAME_S)
_MAX_FRAMES = round(MAX_SEGMENT_S / FRAME_S)
_GAP_FRAMES = round(_MIN_GAP_S / FRAME_S)


class Segmenter:
    """Cut points (in voice-gate frames) of the audio fed to `vad` so far."""

    def __init__(self, vad: VoiceActivity) -> None:
        self._vad = vad
        self.cuts: list[int] = []
        self._scanned = 0
        self._start = 0  # first frame of the open segment
        self._quiet_from: int | None = None
        self._voiced = False  # the open segment holds a voiced frame
        self._gap: tuple[int, int] | None = None  # longest shorter pause: (length, middle)

    def advance(self) -> list[int]:
        """Cuts found in the frames the gate decided since the last call."""
        found: list[int] = []
        voiced = self._vad.voiced
        for frame in range(self._scanned, self._vad.frames):
            if voiced(frame):
                self._end_quiet(frame)
                self._voiced = True
            elif self._quiet_from is None:
                self._quiet_from = frame
            cut = self._cut_at(frame + 1)
            if cut is not None:
                found.append(cut)
                self._open(cut, frame + 1)
        self._scanned = self._vad.frames
        self.cuts.extend(found)
        return found

    def segments(self, frames: int) -> list[tuple[int, int]]:
        """The segments of the `frames` frames decided (all of them: call `advance()`
        first): closed ones, then the open one without its trailing pause, if it holds
        any voiced frame."""
        bounds = [0, *self.cuts]
        spans = list(itertools.pairwise(bounds))
        end = frames
        if self._quiet_from is not None and frames - self._quiet_from >= _PAUSE_FRAMES:
            end = self._quiet_from + _PAUSE_FRAMES // 2
        if end > bounds[-1] and self._voiced:
            spans.append((bounds[-1], end))
        return spans

    def _cut_at(self, frames: int) -> int | None:
        """Where to cut, with `frames` frames decided (None: not yet)."""
        if self._quiet_from is not None and self._voiced:
            quiet = frames - self._quiet_from
            if quiet == _PAUSE_FRAMES and self._quiet_from - self._start >= _MIN_FRAMES:
                return self._quiet_from + _PAUSE_FRAMES // 2
        if frames - self._start >= _MAX_FRAMES:
            if self._quiet_from is not None and frames - self._quiet_from >= _GAP_FRAMES:
                self._end_quiet(frames)
            return self._gap[1] if self._gap is not None else frames
        return None

    def _end_quiet(self, frame: int) -> None:
        if self._quiet_from is None:
            return
        length = frame - self._quiet_from
        if self._voiced and length >= _GAP_FRAMES and (self._gap is None or length > self._gap[0]):
            self._gap = (length, self._quiet_from + length // 2)
        self._quiet_from = None

    def _open(self, cut: int, frames: int) -> None:
        """A new segment from `cut`, with the frames up to `frames` already seen."""
        self._start = cut
        self._gap = None
        self._voiced = any(self._vad.voiced(f) for f in range(cut, frames))
        quiet_from = None
        for f in range(cut, frames):
            quiet_from = None if self._vad.voiced(f) else (f if quiet_from is None else quiet_from)
        self._quiet_from = quiet_from
