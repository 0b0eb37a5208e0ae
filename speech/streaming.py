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
from speech.interim_window import InterimWindow
from speech.model import SpeechModel
from speech.segment_batch import decode_segments
from speech.settings import SpeechSettings
from speech.transcript import FinalTranscript, Interim, Word, join_words
from speech.vad import VoiceActivity
from speech.window_batch import Window, decode_windows

_MAX_SAMPLES_PER_PASS = MAX_FRAMES * HOP
# A word shorter than this was given no time by alignment.
_INSTANT_S = 0.02
# A word ending this close to the window's end may be cut off by it.
_CUT_OFF_S = 0.3
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
        self._window = InterimWindow(self._settings, self._agreement, self._vad, self._fed)
        self._decoded_to = 0
        self._agreed_to = 0
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
        return self._window.length_s

    @property
    def window_start_s(self) -> float:
        return self._window.start_s

    @property
    def loaded(self) -> bool:
        """Whether passes come so far apart that the window follows the `loaded_*` limits."""
        return self._window.loaded

    def _fed(self) -> int:
        return self._samples

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
                        self._window.note_gap(end, self._agreed_to)
                    result = await self._decode(end)
                    # Passes over much the same silence agree on its filler words.
                    heard = _without_trailing_instant(self._vad.over_voice(result.words), end)
                    if due == "counted":
                        self._take(heard, end)
                    else:
                        self._agreement.glimpse(heard)
                else:
                    self._window.skip_silence(end)
                    self._agreed_to = end
                self._decoded_to = end
            return self._interim()

    def _take(self, heard: list[Word], end: int) -> None:
        newly = self._agreement.insert(heard)
        self._agreed_to = end
        self._window.bound(end)
        if not newly and not self._agreement.tentative:
            self._window.skip_settled()

    def _evidence_due(self, end: int) -> bool:
        """Whether a pass now would hear enough more than the last counted one to count."""
        new_ms = (end - self._agreed_to) * 1000 // SAMPLE_RATE
        window_ms = (end - self._window.start) * 1000 // SAMPLE_RATE
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
        window_ms = (end - self._window.start) * 1000 // SAMPLE_RATE
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
                audio, context, start_s = self._unsettled(end)
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
        return self._window.tail_has_speech(end)

    def _unsettled(self, end: int) -> tuple[Samples, str, float]:
        """The unsettled audio, the committed text before it, and where it starts (s)."""
        start, context = self._window.context()
        return self.audio()[start:end], context, start / SAMPLE_RATE

    def pass_window(self, end: int | None = None) -> Window:
        """What an interim pass over the first `end` samples (all fed) would decode: the
        unsettled window, with up to `interim_prompt_tokens` tokens of the text before it
        as the prompt."""
        audio, context, start_s = self._unsettled(self._samples if end is None else end)
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
