"""A live transcriber per practice session: interim transcripts while audio arrives, then
one final transcript.

Each `update()` re-decodes only the window of audio that is not yet settled, sized to
that audio (see `speech.decoding`), with the committed text before the window as the
decoder's prompt. Words two consecutive passes agree on are committed (LocalAgreement-2)
and never change. Once the window is longer than `window_trim_s`, its start moves past the
last committed word, so interim work stays bounded however long the learner speaks;
when passes come far apart (the node is busy), tighter limits apply (`loaded_*`
settings). A window whose unsettled part holds no voiced frame is not decoded at all. A
busy node spaces every session's passes further apart (`pace`, see `speech.pacing`); an
idle one adds glimpses while speech after a pause is not heard yet (`glimpsing`).

Interim passes go through the node's `PassScheduler` when there is one (batched with other
sessions' passes); the final transcript never does: by default it is decoded in segments
cut at pauses (`speech.final_decoder`), apart from the interim passes and the same however
the audio arrived, so a resumed session's final matches an uninterrupted one.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import numpy as np

from speech.agreement import Agreement
from speech.audio import SAMPLE_RATE, Samples
from speech.batching import PassScheduler
from speech.decoding import Pass, context_tokens, decode
from speech.errors import TranscriberClosedError
from speech.final_decoder import FinalDecoder
from speech.frames import HOP, MAX_FRAMES
from speech.model import SpeechModel
from speech.segment_batch import decode_segments
from speech.settings import SpeechSettings
from speech.transcript import FinalTranscript, Interim, Word, join_words
from speech.vad import FRAME_S, VoiceActivity
from speech.window_batch import Window, decode_windows

_MAX_SAMPLES_PER_PASS = MAX_FRAMES * HOP
# Silence kept before new speech when the window skips a pause: room for a soft onset.
_LEAD_S = 0.5
# Voiced audio this long after the last committed word is new speech, not that word's tail
# (attention word ends are ~0.1 s exact).
_NEW_SPEECH_GAP_S = 0.3
# A word shorter than this was given no time by alignment.
_INSTANT_S = 0.02
# A word ending this close to the window's end may be cut off by it.
_CUT_OFF_S = 0.3
# A quiet stretch shorter than this is a stop consonant, not a pause to cut in.
_MIN_PAUSE_S = 0.15
# Interim prompts hold a multiple of this many previous-text tokens (the oldest few go): a
# batch cuts its prompts to the shortest, so rounding costs little and keeps lengths close.
_PROMPT_STEP = 16
# Quiet this long before voiced audio makes it the onset of new speech (see `glimpsing`).
_ONSET_PAUSE_S = 0.3
# Passes come quicker for this long after an onset that no pass has heard yet.
_ONSET_S = 1.0
# ... and rises this much over the quiet (a noisy room's pause is voiced to the gate).
_ONSET_RISE_DB = 12.0
# Attention word starts are ~0.1 s exact.
_ONSET_SLACK_S = 0.15
# Shorter windows than this make Whisper guess at words it has not heard.
_MIN_GLIMPSE_WINDOW_MS = 700
# A shown word ending this close to the audio's end may be only its start (tighter than
# `_CUT_OFF_S`: a glimpse comes every 100 ms, so the next one soon tells).
_ONSET_CUT_S = 0.15
# Weight of the newest pass in the smoothed audio between passes (see `_note_gap`).
_GAP_WEIGHT = 0.5


def _without_trailing_instant(words: list[Word], end: int) -> list[Word]:
    """Drop a last word that alignment gives no time at all, well before the window's end:
    Whisper's guess at what follows a sentence ("Americans. And" in the pause after it in
    jfk.wav), which two passes agree on as readily as on a word heard. A word cut off by
    the window's end is left: the next pass hears it whole."""
    if words:
        last = words[-1]
        if last.end - last.start < _INSTANT_S and last.end < end / SAMPLE_RATE - _CUT_OFF_S:
            return words[:-1]
    return words


def needs_interim_passes(settings: SpeechSettings, duration_s: float) -> bool:
    """Whether transcribing a whole recording needs the interim passes a live session
    would have made: the `tail` final keeps their committed words, and so does `full`
    past the 30 s one pass holds. Otherwise `finalize()` decodes the audio alone, and
    passes would be wasted work."""
    strategy = settings.final_strategy
    return strategy == "tail" or (
        strategy == "full" and duration_s * SAMPLE_RATE > _MAX_SAMPLES_PER_PASS
    )


class StreamingTranscriber:
    """Not thread-safe: use from one event loop. `update()` and `finalize()` serialise.

    The caller feeds mono float32 audio at 16 kHz (see `speech.audio.PcmDecoder`, whose
    `flush()` output belongs in the last `feed()` before `finalize()`). `scheduler`: the
    node's shared interim pass scheduler; without one, each pass is its own model call.
    """

    def __init__(
        self,
        model: SpeechModel,
        *,
        settings: SpeechSettings | None = None,
        scheduler: PassScheduler | None = None,
    ) -> None:
        self._model = model
        self._settings = settings or model.settings
        self._scheduler = scheduler
        self._chunks: list[Samples] = []
        self._samples = 0
        self._audio: Samples | None = None
        self._vad = VoiceActivity(
            threshold_db=self._settings.vad_threshold_db,
            min_level_dbfs=self._settings.vad_min_level_dbfs,
        )
        self._agreement = Agreement(min_probability=self._settings.commit_probability)
        self._window_start = 0
        self._decoded_to = 0
        self._agreed_to = 0
        self._pass_gap_s: float | None = None
        self._lock = asyncio.Lock()
        self._final_lock = asyncio.Lock()
        self._closing = False
        self._final: FinalTranscript | None = None
        self._segments = (
            FinalDecoder(model, self._vad, self.audio, scheduler)
            if self._settings.final_strategy == "segments"
            else None
        )
        self.passes = 0

    @property
    def audio_ms(self) -> int:
        return self._samples * 1000 // SAMPLE_RATE

    @property
    def pace(self) -> float:
        """How many times `interim_interval_ms` after the last pass began the next should
        come: more than 1 while the node's inference workers are busy (`speech.pacing`),
        a fraction while speech after a pause is unheard (`glimpsing`)."""
        if self.glimpsing:
            return self._glimpse_share
        # Glimpses since the last counted pass do not put the next one off.
        glimpsed_ms = (self._decoded_to - self._agreed_to) * 1000 / SAMPLE_RATE
        return max(0.0, self._stretch - glimpsed_ms / self._settings.interim_interval_ms)

    @property
    def _glimpse_share(self) -> float:
        """Glimpses' interval as a share of the counted passes' interval."""
        return self._settings.onset_interval_ms / self._settings.interim_interval_ms

    @property
    def _stretch(self) -> float:
        return 1.0 if self._scheduler is None else self._scheduler.stretch

    @property
    def glimpsing(self) -> bool:
        """Whether passes come `onset_interval_ms` apart now, as glimpses (shown, not
        counted as evidence, see `Agreement.glimpse`): speech began after a pause less
        than `_ONSET_S` ago and no whole word of it is heard yet.

        Mid-phrase words often show before they end (Whisper completes them from their
        start); the first word after a pause cannot be guessed, and waited a whole
        interval after its end. Glimpses are spare work: only a node with time to spare
        makes them (`PassScheduler.has_spare_time`)."""
        if self._glimpse_share >= 1.0:
            return False
        if self._scheduler is not None and not self._scheduler.has_spare_time:
            return False
        end_s = self._samples / SAMPLE_RATE
        # A word the window's end may have cut off is not heard yet ("as" of "ask").
        whole = [w for w in self._agreement.shown if w.end < end_s - _ONSET_CUT_S]
        heard = [*self._agreement.committed[-1:], *whole[-1:]]
        # From the last heard word's start: Whisper often stretches a word's end over
        # the pause after it.
        heard_s = heard[-1].start + _ONSET_SLACK_S if heard else 0.0
        onset = self._vad.onset_after(
            max(heard_s, end_s - _ONSET_S), _ONSET_PAUSE_S, _ONSET_RISE_DB
        )
        return onset is not None

    @property
    def window_s(self) -> float:
        """Length of the audio the next interim pass would decode."""
        return (self._samples - self._window_start) / SAMPLE_RATE

    @property
    def window_start_s(self) -> float:
        return self._window_start / SAMPLE_RATE

    @property
    def committed(self) -> tuple[Word, ...]:
        return tuple(self._agreement.committed)

    def audio(self) -> Samples:
        """Everything fed so far (the recording to store and to evaluate)."""
        if self._audio is None or len(self._audio) != self._samples:
            self._audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
            self._chunks = [self._audio]
        return self._audio

    def feed(self, pcm16k: Samples) -> None:
        if self._closing:
            raise TranscriberClosedError("the transcriber has been finalised")
        chunk = np.asarray(pcm16k, dtype=np.float32)
        if not len(chunk):
            return
        self._chunks.append(chunk)
        self._samples += len(chunk)
        self._vad.feed(chunk)
        if self._segments is not None:
            self._segments.advance()

    def close(self) -> None:
        """The session ended without a final: drop the final's background work."""
        self._closing = True
        if self._segments is not None:
            self._segments.close()

    async def update(self) -> Interim:
        """Decode the unsettled window if there is new audio with speech in it."""
        async with self._lock:
            if self._closing:
                raise TranscriberClosedError("the transcriber has been finalised")
            end = self._samples
            due = self._due(end)
            if due is not None:
                if self._tail_has_speech(end):
                    if due == "counted":
                        self._note_gap(end)
                    result = await self._decode(end)
                    # Passes over much the same silence agree on its filler words.
                    heard = _without_trailing_instant(self._vad.over_voice(result.words), end)
                    if due == "counted":
                        self._take(heard, end)
                    else:
                        self._agreement.glimpse(heard)
                else:
                    self._skip_silence(end)
                    self._agreed_to = end
                self._decoded_to = end
            return self._interim()

    def _take(self, heard: list[Word], end: int) -> None:
        newly = self._agreement.insert(heard)
        self._agreed_to = end
        self._bound_window(end)
        if not newly and not self._agreement.tentative:
            self._skip_settled()

    def _evidence_due(self, end: int) -> bool:
        """Whether a pass now would hear enough more than the last counted one to count."""
        new_ms = (end - self._agreed_to) * 1000 // SAMPLE_RATE
        window_ms = (end - self._window_start) * 1000 // SAMPLE_RATE
        return (
            new_ms >= self._settings.min_pass_audio_ms * self._stretch
            and window_ms >= self._settings.min_window_ms
        )

    def _due(self, end: int) -> Literal["counted", "glimpse"] | None:
        """Which pass, if any, is due now."""
        new_ms = (end - self._decoded_to) * 1000 // SAMPLE_RATE
        if new_ms <= 0:
            return None
        if self._evidence_due(end):
            return "counted"
        # A glimpse may come before the window is long enough to count: the session's
        # first word would otherwise wait for `min_window_ms` of audio.
        settings = self._settings
        window_ms = (end - self._window_start) * 1000 // SAMPLE_RATE
        if (
            window_ms >= min(settings.min_window_ms, _MIN_GLIMPSE_WINDOW_MS)
            and new_ms >= settings.min_pass_audio_ms * self._glimpse_share
            and self.glimpsing
        ):
            return "glimpse"
        return None

    async def finalize(self) -> FinalTranscript:
        """The final transcript of everything fed; later calls return the same result.

        Segmented finals do not wait for an interim pass in flight: they do not use its
        result."""
        self._closing = True
        async with self._final_lock:
            if self._final is None:
                if self._segments is not None:
                    self._final = await self._segments.finish(self._samples)
                else:
                    async with self._lock:
                        self._final = await self._finish(self._samples)
            return self._final

    async def _finish(self, end: int) -> FinalTranscript:
        words: tuple[Word, ...]
        full = self._settings.final_strategy == "full" and end <= _MAX_SAMPLES_PER_PASS
        if full and self._vad.any_voiced(0.0):
            # One segment: the evaluator forces the reference onto its encoding.
            segment = (self.audio()[:end], 0.0)
            (whole,) = await self._model.run(decode_segments, self._model, [segment])
            words = whole.words
        else:
            if self._tail_has_speech(end):
                audio, context, start_s = self._window(end)
                tail = await self._model.run(
                    decode, self._model, audio, context=context, offset_s=start_s
                )
                self._agreement.commit_all(tail.words)
            words = tuple(self._agreement.committed)
        return FinalTranscript(
            text=join_words(words),
            words=words,
            model=self._model.name,
            duration_ms=end * 1000 // SAMPLE_RATE,
        )

    def _interim(self) -> Interim:
        return Interim(
            committed=join_words(self._agreement.committed),
            tentative=join_words(self._agreement.shown),
            audio_ms=self._decoded_to * 1000 // SAMPLE_RATE,
        )

    def _tail_has_speech(self, end: int) -> bool:
        start_s = max(self._window_start / SAMPLE_RATE, self._agreement.committed_end)
        return self._vad.any_voiced(start_s, end / SAMPLE_RATE)

    def _window(self, end: int) -> tuple[Samples, str, float]:
        """The unsettled audio, the committed text before it, and where it starts (s)."""
        start = self._window_start
        start_s = start / SAMPLE_RATE
        context = join_words([w for w in self._agreement.committed if w.end <= start_s + 0.05])
        return self.audio()[start:end], context, start_s

    def pass_window(self, end: int | None = None) -> Window:
        """What an interim pass over the first `end` samples (all fed) would decode: the
        unsettled window, with up to `interim_prompt_tokens` tokens of the text before it
        as the prompt."""
        audio, context, start_s = self._window(self._samples if end is None else end)
        limit = self._settings.interim_prompt_tokens
        tokens = context_tokens(self._model, context, limit=limit, step=_PROMPT_STEP)
        return Window(audio, tuple(tokens), start_s)

    async def _decode(self, end: int) -> Pass:
        """One interim pass over the unsettled window (`pass_window`)."""
        window = self.pass_window(end)
        self.passes += 1
        if self._scheduler is not None:
            return await self._scheduler.decode(window)
        (result,) = await self._model.run_interim(decode_windows, self._model, [window])
        return result

    @property
    def loaded(self) -> bool:
        """Whether passes come so far apart that the window follows the `loaded_*` limits."""
        threshold_s = self._settings.loaded_pass_gap_ms / 1000
        gap_s = self._pass_gap_s
        return threshold_s == 0 or (gap_s is not None and gap_s >= threshold_s)

    def _note_gap(self, end: int) -> None:
        """Smooth the audio that arrived since the last pass: under load the passes of
        every session stretch alike, while one late pass (a burst of audio) is noise."""
        if not self._agreed_to:
            return  # the first pass waits for `min_window_ms`, not for a worker
        gap_s = (end - self._agreed_to) / SAMPLE_RATE
        before = self._pass_gap_s
        self._pass_gap_s = gap_s if before is None else before + _GAP_WEIGHT * (gap_s - before)

    def _limits(self) -> tuple[float, float]:
        """(window_trim_s, max_window_s) for the next pass."""
        settings = self._settings
        if self.loaded:
            return settings.loaded_window_trim_s, settings.loaded_max_window_s
        return settings.window_trim_s, settings.max_window_s

    def _bound_window(self, end: int) -> None:
        end_s = end / SAMPLE_RATE
        trim_s, max_s = self._limits()
        if self.window_s > max_s:
            # Passes keep disagreeing: settle the older words rather than grow the window.
            self._agreement.commit_before(end_s - trim_s / 2)
        if self.window_s <= trim_s or not self._agreement.committed:
            if self.window_s > max_s:
                self._move_window(end_s - trim_s)
            return
        self._move_window(self._best_cut(end_s, max_s))

    def _committed_in_window(self) -> list[Word]:
        return [w for w in self._agreement.committed if w.start >= self.window_start_s]

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

    def _skip_settled(self) -> None:
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
        if (
            len(self._committed_in_window()) >= 2
            and self._agreement.committed_end > self.window_start_s
        ):
            pause = self._pause_after_committed()
            if pause is not None:
                self._move_window(pause)

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

    def _skip_silence(self, end: int) -> None:
        """Nothing voiced since the last committed word: the window need not hold it.

        It keeps at least `min_window_ms` of the silence, so that the first words after
        the pause are decoded with the next pass rather than once the window has grown
        to that length (which made them the slowest words to show)."""
        self._agreement.clear_tentative()
        lead_s = max(_LEAD_S, self._settings.min_window_ms / 1000)
        self._move_window(end / SAMPLE_RATE - lead_s)

    def _move_window(self, start_s: float) -> None:
        start = min(int(start_s * SAMPLE_RATE), self._samples)
        self._window_start = max(self._window_start, start)
