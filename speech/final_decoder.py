"""The final transcript, decoded segment by segment as the segments close.

Each segment (see `speech.segments`) is decoded on its own, sized to its audio, with the
text of the segments before it as the prompt; a closed segment is decoded while the
learner goes on speaking, by a spare worker (`speech.batching.Spare`), so that `stop`
leaves only what is still undecoded: usually the last segment, or nothing when the
learner paused before stopping. What a segment's decode gives depends on its audio and on
the text before it alone, never on when it ran: the final of a resumed session is that of
an uninterrupted one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from speech.audio import SAMPLE_RATE, Samples
from speech.batching import PassScheduler, Spare
from speech.decoding import EMPTY_PASS, Pass, decode
from speech.model import SpeechModel
from speech.segments import Segmenter
from speech.transcript import FinalTranscript, Word, join_words
from speech.vad import FRAME_SAMPLES, VoiceActivity

# A segment with less voiced audio than this (a breath, a cough, a noise after the last
# word) whose decode is doubtful held no words: Whisper, given a scrap of noise after a
# prompt, writes "Yeah." or "Thank you." rather than nothing.
_BRIEF_VOICED_S = 0.5


class FinalDecoder:
    """Use from one event loop: `advance()` after each feed, `finish()` once."""

    def __init__(
        self,
        model: SpeechModel,
        vad: VoiceActivity,
        audio: Callable[[], Samples],
        scheduler: PassScheduler | None,
    ) -> None:
        self._model = model
        self._vad = vad
        self._audio = audio
        self._scheduler = scheduler
        self._segmenter = Segmenter(vad)
        self._jobs: list[Spare[Pass]] = []  # closed segments, in order
        self._words: list[tuple[Word, ...]] = []  # decoded segments' words, in order
        self._closed = False

    def advance(self) -> None:
        """Look for new cuts; hand the next closed segment to a spare worker."""
        if self._segmenter.advance():
            self._offer_next()

    def close(self) -> None:
        """Nothing more will be asked: work not started yet is withdrawn."""
        self._closed = True
        for job in self._jobs:
            job.withdraw()

    async def finish(self, end: int) -> FinalTranscript:
        """The final transcript of the first `end` samples (everything fed)."""
        self._segmenter.advance()
        frames = end // FRAME_SAMPLES
        spans = [
            (a * FRAME_SAMPLES, b * FRAME_SAMPLES) for a, b in self._segmenter.segments(frames)
        ]
        if spans and spans[-1][1] == frames * FRAME_SAMPLES:
            spans[-1] = (spans[-1][0], end)  # the last, partial frame belongs to it
        elif not spans and end:
            spans = [(0, end)]
        for index, (start, stop) in enumerate(spans):
            if index < len(self._words):
                continue
            job = self._jobs[index] if index < len(self._jobs) else None
            if job is None or job.failed():
                job = self._job(start, stop)  # a failed spare run is tried once more
            result = await job.result()
            if index == len(self._words):  # unless its own callback got there first
                self._words.append(self._heard(result, start, stop))
        self.close()
        words = tuple(w for segment in self._words for w in segment)
        return FinalTranscript(
            text=join_words(words),
            words=words,
            model=self._model.name,
            duration_ms=end * 1000 // SAMPLE_RATE,
            segments=tuple((a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in spans),
        )

    def _offer_next(self) -> None:
        """Offer the next closed segment once the one before it is decoded (its text is
        the prompt)."""
        if self._closed or self._scheduler is None:
            return
        index = len(self._jobs)
        if index >= len(self._segmenter.cuts) or index > len(self._words):
            return
        job = self._job(*self._closed_span(index))
        self._jobs.append(job)
        job.add_done_callback(lambda: self._decoded(index))
        self._scheduler.offer(job)

    def _decoded(self, index: int) -> None:
        job = self._jobs[index]
        if self._closed or index != len(self._words) or job.failed():
            return  # after a failure `finish()` asks again, as urgent work
        self._words.append(self._heard(job.outcome(), *self._closed_span(index)))
        self._offer_next()

    def _closed_span(self, index: int) -> tuple[int, int]:
        """Start and end (samples) of closed segment `index`."""
        cuts = self._segmenter.cuts
        start = cuts[index - 1] if index else 0
        return start * FRAME_SAMPLES, cuts[index] * FRAME_SAMPLES

    def _job(self, start: int, stop: int) -> Spare[Pass]:
        start_s, stop_s = start / SAMPLE_RATE, stop / SAMPLE_RATE
        if not self._vad.any_voiced(start_s, stop_s):
            return Spare(self._model, _silent)
        context = join_words([w for segment in self._words for w in segment])
        # Shared with the evaluator, which forces the reference onto each segment.
        work = functools.partial(
            decode, self._model, self._audio()[start:stop], context=context, offset_s=start_s
        )
        return Spare(self._model, functools.partial(work, reuse=True))

    def _heard(self, result: Pass, start: int, stop: int) -> tuple[Word, ...]:
        """The segment's words over voiced audio; none from a scrap of doubtful noise."""
        voiced_s = self._vad.voiced_seconds(start / SAMPLE_RATE, stop / SAMPLE_RATE)
        doubtful = result.avg_logprob < self._model.settings.logprob_threshold
        if voiced_s < _BRIEF_VOICED_S and doubtful:
            return ()
        return tuple(self._vad.over_voice(result.words))


def _silent() -> Pass:
    return EMPTY_PASS
