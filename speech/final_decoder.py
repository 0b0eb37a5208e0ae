"""The final transcript, decoded segment by segment as the segments close.

Each segment (see `speech.segments`) is decoded as it would be alone, however many
segments share its call (`speech.segment_batch`). A closed segment is handed at once to
the node's spare workers, which decode it while the learner goes on speaking, batched
with other sessions' segments, so that `stop` leaves only what is still undecoded:
usually the last segment, or nothing when the learner paused before stopping. What is
left is decoded in one urgent call. What a segment's decode gives depends on its audio
alone, never on when or with what it ran: the final of a resumed session is that of an
uninterrupted one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from speech.audio import SAMPLE_RATE, Samples
from speech.batching import PassScheduler
from speech.decoding import EMPTY_PASS, Pass
from speech.model import SpeechModel
from speech.segment_batch import SegmentJob, run_jobs
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
        self._jobs: list[SegmentJob] = []  # closed segments, in order
        self._closed = False

    def advance(self) -> None:
        """Look for new cuts; hand newly closed segments to the spare workers."""
        # Without spare workers, `finish()` decodes every segment, in one call.
        if self._segmenter.advance() and self._scheduler is not None:
            while len(self._jobs) < len(self._segmenter.cuts) and not self._closed:
                job = self._job(*self._closed_span(len(self._jobs)))
                self._jobs.append(job)
                if job.waiting:
                    self._scheduler.offer(job)

    def close(self) -> None:
        """Nothing more will be asked: work not started yet is withdrawn."""
        self._closed = True
        for job in self._jobs:
            job.withdrawn = True

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
        # A failed spare run is tried once more; the open segment is decoded now.
        jobs = [
            self._jobs[i]
            if i < len(self._jobs) and not self._jobs[i].failed()
            else self._job(*span)
            for i, span in enumerate(spans)
        ]
        self.close()
        left = [job for job in jobs if not job.started and not job.future.done()]
        if left:
            await run_jobs(self._model, left, urgent=True)
        results = await asyncio.gather(*(asyncio.shield(job.future) for job in jobs))
        words = tuple(
            w
            for result, (start, stop) in zip(results, spans, strict=True)
            for w in self._heard(result, start, stop)
        )
        return FinalTranscript(
            text=join_words(words),
            words=words,
            model=self._model.name,
            duration_ms=end * 1000 // SAMPLE_RATE,
            segments=tuple((a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in spans),
        )

    def _closed_span(self, index: int) -> tuple[int, int]:
        """Start and end (samples) of closed segment `index`."""
        cuts = self._segmenter.cuts
        start = cuts[index - 1] if index else 0
        return start * FRAME_SAMPLES, cuts[index] * FRAME_SAMPLES

    def _job(self, start: int, stop: int) -> SegmentJob:
        start_s = start / SAMPLE_RATE
        job = SegmentJob(self._audio()[start:stop], start_s)
        if not self._vad.any_voiced(start_s, stop / SAMPLE_RATE):
            job.settle(EMPTY_PASS)
        return job

    def _heard(self, result: Pass, start: int, stop: int) -> tuple[Word, ...]:
        """The segment's words over voiced audio; none from a scrap of doubtful noise."""
        voiced_s = self._vad.voiced_seconds(start / SAMPLE_RATE, stop / SAMPLE_RATE)
        doubtful = result.avg_logprob < self._model.settings.logprob_threshold
        if voiced_s < _BRIEF_VOICED_S and doubtful:
            return ()
        return tuple(self._vad.over_voice(result.words))
