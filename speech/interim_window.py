"""Where a live session's next interim pass starts: the window of unsettled audio.

The window runs from a start point to the audio's end. It moves forward once words are
committed (to a pause after them, so the pass keeps its context but not the settled
audio), skips silence, and is held to `window_trim_s`/`max_window_s` (or the `loaded_*`
limits while the node's passes come far apart, `loaded`).
"""

from __future__ import annotations

from collections.abc import Callable

from speech.agreement import Agreement
from speech.audio import SAMPLE_RATE
from speech.settings import SpeechSettings
from speech.transcript import Word, join_words
from speech.vad import FRAME_S, VoiceActivity

# Silence kept before new speech when the window skips a pause: room for a soft onset.
_LEAD_S = 0.5
# Voiced audio this long after the last committed word is new speech, not that word's tail
# (attention word ends are ~0.1 s exact).
_NEW_SPEECH_GAP_S = 0.3
# A quiet stretch shorter than this is a stop consonant, not a pause to cut in.
_MIN_PAUSE_S = 0.15
# Weight of the newest pass in the smoothed audio between passes (see `note_gap`).
_GAP_WEIGHT = 0.5


class InterimWindow:
    def __init__(
        self,
        settings: SpeechSettings,
        agreement: Agreement,
        vad: VoiceActivity,
        samples: Callable[[], int],
    ) -> None:
        """`samples`: how many samples have been fed so far."""
        self._settings = settings
        self._agreement = agreement
        self._vad = vad
        self._samples = samples
        self.start = 0  # in samples
        self._pass_gap_s: float | None = None

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE

    @property
    def length_s(self) -> float:
        """Length of the audio the next interim pass would decode."""
        return (self._samples() - self.start) / SAMPLE_RATE

    @property
    def loaded(self) -> bool:
        """Whether passes come so far apart that the window follows the `loaded_*` limits."""
        threshold_s = self._settings.loaded_pass_gap_ms / 1000
        gap_s = self._pass_gap_s
        return threshold_s == 0 or (gap_s is not None and gap_s >= threshold_s)

    def note_gap(self, end: int, agreed_to: int) -> None:
        """Smooth the audio that arrived since the last counted pass (which ended at
        `agreed_to`): under load the passes of every session stretch alike, while one late
        pass (a burst of audio) is noise."""
        if not agreed_to:
            return  # the first pass waits for `min_window_ms`, not for a worker
        gap_s = (end - agreed_to) / SAMPLE_RATE
        before = self._pass_gap_s
        self._pass_gap_s = gap_s if before is None else before + _GAP_WEIGHT * (gap_s - before)

    def context(self) -> tuple[int, str]:
        """The window's start and the committed text before it (the pass's prompt)."""
        start_s = self.start_s
        text = join_words([w for w in self._agreement.committed if w.end <= start_s + 0.05])
        return self.start, text

    def tail_has_speech(self, end: int) -> bool:
        start_s = max(self.start_s, self._agreement.committed_end)
        return self._vad.any_voiced(start_s, end / SAMPLE_RATE)

    def bound(self, end: int) -> None:
        """After a counted pass: keep the window within its limits."""
        end_s = end / SAMPLE_RATE
        trim_s, max_s = self._limits()
        if self.length_s > max_s:
            # Passes keep disagreeing: settle the older words rather than grow the window.
            self._agreement.commit_before(end_s - trim_s / 2)
        if self.length_s <= trim_s or not self._agreement.committed:
            if self.length_s > max_s:
                self.move(end_s - trim_s)
            return
        self.move(self._best_cut(end_s, max_s))

    def skip_settled(self) -> None:
        """The pass heard nothing past the committed words, yet speech follows them.

        Whisper, hearing a complete sentence at the start of its window, ends the text
        after the full stop and keeps doing so pass after pass while the next sentence
        goes unheard. Start the window in the pause after the committed words instead,
        so that it holds only the new speech (the committed text is the prompt).

        Not when the window holds one committed word or less (it started in the pause or
        in the last word's tail): no sentence to end there, and the word's sound helps
        Whisper hear the first word after the pause, which a window of only the new
        speech often misses ("you. Ask" in jfk.wav: nothing until 0.6 s past "ask").
        """
        if len(self._committed_in_window()) >= 2 and self._agreement.committed_end > self.start_s:
            pause = self._pause_after_committed()
            if pause is not None:
                self.move(pause)

    def skip_silence(self, end: int) -> None:
        """Nothing voiced since the last committed word: the window need not hold it.

        It keeps at least `min_window_ms` of the silence, so that the first words after
        the pause are decoded with the next pass rather than once the window has grown
        to that length (which made them the slowest words to show)."""
        self._agreement.clear_tentative()
        lead_s = max(_LEAD_S, self._settings.min_window_ms / 1000)
        self.move(end / SAMPLE_RATE - lead_s)

    def move(self, start_s: float) -> None:
        start = min(int(start_s * SAMPLE_RATE), self._samples())
        self.start = max(self.start, start)

    def _limits(self) -> tuple[float, float]:
        """(window_trim_s, max_window_s) for the next pass."""
        settings = self._settings
        if self.loaded:
            return settings.loaded_window_trim_s, settings.loaded_max_window_s
        return settings.window_trim_s, settings.max_window_s

    def _committed_in_window(self) -> list[Word]:
        return [w for w in self._agreement.committed if w.start >= self.start_s]

    def _best_cut(self, end_s: float, max_s: float) -> float:
        """Where to start the window: the widest gap after a committed word that leaves
        the window no longer than `max_s`.

        Attention word boundaries are only ~0.1 s exact, so cutting inside a pause (and
        in its middle) does not clip the onset of the next word; the last second stays.
        """
        committed = self._committed_in_window()
        following = [*committed[1:], *self._agreement.tentative[:1]]
        # Words older than the window's limit are committed already (`commit_before`).
        best, best_gap = max(self._agreement.committed_end, end_s - max_s), -1.0
        for word, after in zip(committed, following, strict=False):
            gap = after.start - word.end
            cut = (word.end + max(after.start, word.end)) / 2
            if end_s - max_s <= cut and word.end <= end_s - 1.0 and gap >= best_gap:
                best, best_gap = cut, gap
        return best

    def _pause_after_committed(self) -> float | None:
        """Middle of the longest quiet stretch between the last committed word and later
        voiced audio, if that audio is new speech rather than the word's tail."""
        last = self._agreement.committed_end
        best: float | None = None
        longest = _MIN_PAUSE_S
        quiet_from: int | None = None
        for frame in range(int(last / FRAME_S) + 1, self._vad.frames):
            middle = (frame + 0.5) * FRAME_S
            if not self._vad.any_voiced(middle, middle):
                quiet_from = frame if quiet_from is None else quiet_from
                continue
            if quiet_from is not None:
                length = (frame - quiet_from) * FRAME_S
                if length >= longest and frame * FRAME_S >= last + _NEW_SPEECH_GAP_S:
                    best, longest = (quiet_from + frame) * FRAME_S / 2, length
                quiet_from = None
        return best
