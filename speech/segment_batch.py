"""The final transcript's segments, decoded many at a time, each as it would be alone.

A segment (see `speech.segments`) is encoded alone, its audio plus at least one second of
padding, rounded up to a multiple of 5 s from 2 s of audio on (`segment_encoding`, the
encoding the evaluator reuses). Segments of one such length share a `generate` call,
greedy, with the same prompt and a token budget set by the length. CTranslate2 on the CPU
computes each member of such a batch exactly as it computes it alone (the same tokens and
scores, to the bit: see tests/speech/test_segment_batch.py; its batched alignment does
not, so each segment is aligned alone), so what a segment's decode gives depends on its
audio alone, never on which segments of which sessions shared its call: a resumed
session's final is that of an uninterrupted one.

The prompt holds no previous text, so that a segment's decode need not wait for the one
before it: a session's segments left at `stop` are decoded in one call. On the 40.7 s
programme of bench/ws_latency.py this also lowered the final's word error rate, from
0.054 (each segment prompted with the text before it) to 0.022. The extra padding is
encoded (2.5 s a segment on average) rather than filled in with the encoder output of pure
padding, as the interim passes do: on the published speechocean762 subset (46 utterances)
the correlation of the accuracy scores with the experts' was 0.44 before, 0.34 with filling
and 0.46 so (the 254 pre-release ones: 0.79 each time). Steps of 2.5 s made more, smaller
batches: stop -> final at 4 sessions (bench/ws_load.py) 1.0 s against 0.63 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import ctranslate2
import numpy as np

from speech.audio import SAMPLE_RATE, Samples
from speech.decoding import (
    EMPTY_PASS,
    Encoded,
    Pass,
    align_words,
    drop_outside,
    drop_repeated_tail,
    encode,
    generate,
    is_heard,
    prompt_for,
    scores,
    token_budget,
)
from speech.model import SpeechModel
from speech.segments import MIN_SEGMENT_S

STEP_FRAMES = 500  # 5 s of mel frames


class SegmentJob:
    """One segment's decode, to run in some batch. Use from one event loop."""

    def __init__(self, audio: Samples, offset_s: float) -> None:
        self.audio = audio
        self.offset_s = offset_s
        self.future: asyncio.Future[Pass] = asyncio.get_running_loop().create_future()
        self.started = False
        self.withdrawn = False

    @property
    def waiting(self) -> bool:
        """Still to run: not started, not withdrawn, no result yet."""
        return not (self.started or self.withdrawn or self.future.done())

    def failed(self) -> bool:
        return self.future.done() and self.future.exception() is not None

    def settle(self, result: Pass | BaseException) -> None:
        if self.future.done():
            return
        if isinstance(result, BaseException):
            self.future.set_exception(result)
            self.future.exception()  # retrieved: a withdrawn job's failure is no news
        else:
            self.future.set_result(result)


async def run_jobs(model: SpeechModel, jobs: Sequence[SegmentJob], *, urgent: bool) -> None:
    """Decode `jobs` in one blocking call (urgent: ahead of interim passes) and settle them."""
    for job in jobs:
        job.started = True
    run = model.run if urgent else model.run_interim
    try:
        results = await run(decode_segments, model, [(j.audio, j.offset_s) for j in jobs])
    except Exception as exc:
        for job in jobs:
            job.settle(exc)
    else:
        for job, result in zip(jobs, results, strict=True):
            job.settle(result)


def segment_encoding(model: SpeechModel, audio: Samples) -> Encoded:
    """The encoding of one segment (at most 30 s), shared by its decode and its evaluation.

    A segment shorter than the shortest one a pause closes (a scrap of noise after the last
    word, a one-word answer) gets one second of padding alone: Whisper, given half a second
    of noise and four of padding, writes "you." with confidence."""
    step = STEP_FRAMES if len(audio) >= MIN_SEGMENT_S * SAMPLE_RATE else 2
    return encode(model, audio, reuse=True, step=step)


def decode_segments(model: SpeechModel, segments: Sequence[tuple[Samples, float]]) -> list[Pass]:
    """Transcribe (audio, offset_s) segments, each at most 30 s (blocking).

    Decoded without timestamps, Whisper may end the text at a sentence end before the
    segment's audio does: a segment holding the end of one passage, a pause too short to
    cut at, then another passage came back as the first passage's last words alone. So
    while a segment's words end `MIN_TAIL_S` or more before its audio, the rest is decoded
    again from the last word's end (as faster-whisper's `transcribe()` seeks past what it
    decoded), and what it hears is appended. Each continuation depends on the segment's
    audio alone, so the final still does too."""
    passes = _decode_once(model, segments)
    open_ = list(range(len(segments)))
    for _ in range(MAX_CONTINUATIONS):
        tails: list[tuple[int, Samples, float]] = []
        for i in open_:
            tail = _rest_after(passes[i], *segments[i])
            if tail is not None:
                tails.append((i, *tail))
        if not tails:
            break
        heard = _decode_once(model, [(audio, offset) for _, audio, offset in tails])
        open_ = []
        for (i, _, _), more in zip(tails, heard, strict=True):
            if more.words:
                passes[i] = Pass(passes[i].words + more.words, *_scores(passes[i], more))
                open_.append(i)
    return passes


# A continuation is decoded only for this much audio after the last word: the cut leaves up
# to half a pause after the last word, and a second of padding alone makes Whisper hear
# words in noise (see `segment_encoding`).
MIN_TAIL_S = 1.0
MAX_CONTINUATIONS = 3


def _rest_after(done: Pass, audio: Samples, offset_s: float) -> tuple[Samples, float] | None:
    """The audio of a segment after its last decoded word, if long enough to hold more."""
    if not done.words:
        return None
    end_s = done.words[-1].end - offset_s
    if len(audio) / SAMPLE_RATE - end_s < MIN_TAIL_S:
        return None
    start = max(0, int(end_s * SAMPLE_RATE))
    return audio[start:], offset_s + start / SAMPLE_RATE


def _scores(first: Pass, more: Pass) -> tuple[float, float]:
    """A continued segment's scores: the surer no-speech reading, the mean log probability
    weighted by the words each part heard."""
    n, m = len(first.words), len(more.words)
    return (
        min(first.no_speech_prob, more.no_speech_prob),
        (first.avg_logprob * n + more.avg_logprob * m) / (n + m),
    )


def _decode_once(model: SpeechModel, segments: Sequence[tuple[Samples, float]]) -> list[Pass]:
    passes = [EMPTY_PASS] * len(segments)
    groups: dict[int, list[tuple[int, Encoded]]] = {}
    for i, (audio, _) in enumerate(segments):
        if len(audio) >= SAMPLE_RATE // 10:
            enc = segment_encoding(model, audio)
            groups.setdefault(enc.padded_frames, []).append((i, enc))
    for frames, members in sorted(groups.items()):
        decoded = _decode_group(model, frames, [e for _, e in members])
        for (i, _), result in zip(members, decoded, strict=True):
            passes[i] = Pass(
                tuple(w.shifted(segments[i][1]) for w in result.words),
                result.no_speech_prob,
                result.avg_logprob,
            )
    return passes


def _decode_group(model: SpeechModel, frames: int, encoded: Sequence[Encoded]) -> list[Pass]:
    """Decode encodings of `frames` padded frames each in one call."""
    batch = np.concatenate([np.asarray(enc.output) for enc in encoded])
    prompt = prompt_for(model, [])
    eot = model.tokenizer.eot
    features = ctranslate2.StorageView.from_array(batch)
    results = generate(
        model, features, [prompt] * len(encoded), max_length=len(prompt) + token_budget(frames)
    )
    passes = [EMPTY_PASS] * len(encoded)
    heard: list[tuple[int, list[int]]] = []
    for k, (enc, result) in enumerate(zip(encoded, results, strict=True)):
        tokens = [t for t in result.sequences_ids[0][: token_budget(enc.frames)] if t < eot]
        no_speech, avg_logprob = scores(result, tokens)
        passes[k] = Pass((), no_speech, avg_logprob)
        if is_heard(model, tokens, no_speech, avg_logprob):
            heard.append((k, tokens))
    for k, tokens in heard:
        # Aligned alone: CTranslate2's alignment of a batch differs from one member's in
        # the last bits (enough to move a word boundary by a frame).
        enc = encoded[k]
        words = drop_repeated_tail(drop_outside(align_words(model, enc, tokens), enc.duration_s))
        passes[k] = Pass(tuple(words), passes[k].no_speech_prob, passes[k].avg_logprob)
    return passes
