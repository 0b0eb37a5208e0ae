"""Interim passes batched across sessions: the words of each window, fair, silence costs nothing.

Real model, real recordings; no timing assertions (speed is measured in bench/ws_load.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.batching import PassScheduler
from speech.decoding import PAD_FRAMES, Pass, context_tokens, padded_length
from speech.model import SpeechModel
from speech.segment_batch import SegmentJob, decode_segments
from speech.streaming import StreamingTranscriber
from speech.text import normalize_text
from speech.window_batch import Window, decode_encoded, decode_windows, encode_window
from tests.speech.conftest import JFK_TEXT, NATIVE
from tests.speech.test_streaming import word_error_rate

CHUNK = 3_200  # 200 ms
CLIPS = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
)


@pytest.fixture(scope="module")
def clips() -> list[Samples]:
    return [load_wav_16k(NATIVE / name) for name in CLIPS]


def test_padded_length_adds_a_second() -> None:
    assert padded_length(250) == 250 + PAD_FRAMES
    assert padded_length(251) == 352  # even
    assert padded_length(2_990) == 3_000  # never past 30 s


def words_of(passes: list[Pass]) -> list[str]:
    return [" ".join(w.word for w in p.words) for p in passes]


def test_windows_of_any_length_share_a_batch(model: SpeechModel, jfk: Samples) -> None:
    """Windows of 1.8-3.9 s, with and without previous text, decoded together and one
    by one: each gets the words of its own audio, at its own place in the utterance."""

    def context(text: str) -> tuple[int, ...]:
        return tuple(context_tokens(model, text, limit=16, step=8))

    windows = [
        Window(jfk[: int(3.2 * SAMPLE_RATE)]),
        Window(np.zeros(int(1.8 * SAMPLE_RATE), np.float32)),
        Window(
            jfk[3 * SAMPLE_RATE : int(6.9 * SAMPLE_RATE)],
            context("We meet tonight in a time of trial. And so my fellow Americans,"),
            3.0,
        ),
        Window(
            jfk[7 * SAMPLE_RATE : int(10.5 * SAMPLE_RATE)],
            context("what your country can do for you,"),
            7.0,
        ),
    ]
    together = decode_windows(model, windows)
    alone = [decode_windows(model, [w])[0] for w in windows]
    heard = [normalize_text(text) for text in words_of(together)]
    assert heard[0][:4] == ["and", "so", "my", "fellow"]
    assert heard[1] == []  # silence, however long the batch's other windows
    assert "country" in heard[2] and "country" in heard[3]
    assert together[2].words[0].start >= 3.0  # shifted to the utterance
    assert together[3].words[-1].end <= 10.5  # nothing placed in the filled-in padding
    for a, b in zip(words_of(together), words_of(alone), strict=True):
        assert (not normalize_text(a + b)) or word_error_rate(b, a) <= 0.25, (a, b)


async def stream(
    model: SpeechModel, audio: Samples, scheduler: PassScheduler | None, delay_chunks: int
) -> list[tuple[str, str]]:
    """Feed `audio` in 200 ms chunks, an update after each: the interims seen."""
    transcriber = StreamingTranscriber(model, scheduler=scheduler)
    for _ in range(delay_chunks):
        await asyncio.sleep(0)
    seen = []
    for start in range(0, len(audio), CHUNK):
        transcriber.feed(audio[start : start + CHUNK])
        interim = await transcriber.update()
        seen.append((interim.committed, interim.tentative))
    return seen


async def test_batched_streams_see_what_unbatched_ones_see(
    model: SpeechModel, clips: list[Samples]
) -> None:
    scheduler = PassScheduler(model, workers=1, max_batch=8)
    batched = await asyncio.gather(
        *(stream(model, clip, scheduler, i) for i, clip in enumerate(clips))
    )
    assert scheduler.windows > scheduler.calls  # passes really shared calls
    alone = [await stream(model, clip, None, 0) for clip in clips]
    for seen_batched, seen_alone in zip(batched, alone, strict=True):
        committed = [c for c, _ in seen_batched]
        for before, after in pairwise(committed):
            assert after.startswith(before)  # a committed prefix never changes
        last_batched, last_alone = (" ".join(seen[-1]) for seen in (seen_batched, seen_alone))
        assert word_error_rate(last_alone, last_batched) <= 0.2, (last_batched, last_alone)
    assert word_error_rate(JFK_TEXT, " ".join(batched[0][-1])) < 0.3


async def test_a_silent_stream_costs_no_model_call(model: SpeechModel, jfk: Samples) -> None:
    scheduler = PassScheduler(model, workers=1, max_batch=8)
    noise = np.random.default_rng(7).normal(0, 1e-4, len(jfk)).astype(np.float32)
    speaking = StreamingTranscriber(model, scheduler=scheduler)
    silent = StreamingTranscriber(model, scheduler=scheduler)

    async def run(transcriber: StreamingTranscriber, audio: Samples) -> str:
        for start in range(0, len(audio), CHUNK):
            transcriber.feed(audio[start : start + CHUNK])
            interim = await transcriber.update()
        return interim.committed + interim.tentative

    spoken, quiet = await asyncio.gather(run(speaking, jfk), run(silent, noise))
    assert quiet == "" and silent.passes == 0
    assert "fellow americans" in spoken.lower()
    assert scheduler.windows == speaking.passes > 0


async def test_no_session_is_starved(model: SpeechModel, jfk: Samples) -> None:
    """Five sessions asking for pass after pass, windows of five lengths, batches of at
    most two: oldest first keeps their pass counts within one of each other."""
    scheduler = PassScheduler(model, workers=1, max_batch=2)
    lengths_s = (1.2, 1.5, 2.5, 3.5, 4.5)
    done: Counter[int] = Counter()
    stop = asyncio.Event()

    async def session(i: int) -> None:
        window = Window(jfk[: int(lengths_s[i] * SAMPLE_RATE)])
        while not stop.is_set():
            await scheduler.decode(window)
            done[i] += 1
            if sum(done.values()) >= 40:
                stop.set()

    await asyncio.gather(*(session(i) for i in range(len(lengths_s))))
    assert scheduler.calls < sum(done.values())  # windows shared calls
    assert max(done.values()) - min(done.values()) <= 1, done


async def test_a_failed_batch_reaches_every_waiting_session(model: SpeechModel) -> None:
    scheduler = PassScheduler(model, workers=1, max_batch=4)
    bad = Window(np.array(["x"] * SAMPLE_RATE, dtype=object))  # not audio samples
    results = await asyncio.gather(
        *(scheduler.decode(bad) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, Exception) for r in results)
    assert scheduler.waiting == 0


async def test_a_final_never_queues_behind_interim_passes(
    model: SpeechModel, jfk: Samples, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A final makes several model calls in a row; while it runs, one worker stays its
    own, so no interim pass slips in between two of its calls (they would queue in the
    pool ahead of its next call)."""
    log: list[str] = []
    lock = threading.Lock()
    interim_started = threading.Event()

    def note(event: str) -> None:
        with lock:
            log.append(event)

    def interim(work: Callable[..., Any]) -> Callable[..., Any]:
        def noted(*args: Any, **kwargs: Any) -> Any:
            note("interim")
            interim_started.set()
            return work(*args, **kwargs)

        return noted

    monkeypatch.setattr("speech.batching.encode_window", interim(encode_window))
    monkeypatch.setattr("speech.batching.decode_encoded", interim(decode_encoded))
    scheduler = PassScheduler(model, workers=2, max_batch=1)
    release = threading.Event()

    def first_call() -> None:
        release.wait(30)
        note("final call 1 done")

    async def final() -> None:
        await model.run(first_call)
        await model.run(note, "final call 2")

    finishing = asyncio.create_task(final())
    await asyncio.sleep(0)  # its first call holds a worker
    windows = [Window(jfk[: int(s * SAMPLE_RATE)]) for s in (1.5, 2.5, 3.5, 4.5)]
    passes = asyncio.gather(*(scheduler.decode(w) for w in windows))
    # Interim passes still run meanwhile, on the other worker.
    assert await asyncio.to_thread(interim_started.wait, 30)
    release.set()
    await finishing
    assert len(await passes) == len(windows)
    between = log[log.index("final call 1 done") + 1 : log.index("final call 2")]
    assert between == [], log
    assert log.count("interim") >= len(windows)  # each window encoded, then decoded


async def test_spare_calls_take_a_few_seconds_of_segments_each(
    model: SpeechModel, jfk: Samples
) -> None:
    """Segments that close at once (sessions pausing together) are decoded a few seconds
    of audio per spare call, so a pass arriving meanwhile never waits behind a long call;
    each segment's words are those it gets alone."""
    spans = [(0.0, 3.3), (3.3, 5.6), (5.6, 8.3), (8.3, 11.0)]
    segments = [(jfk[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)], a) for a, b in spans]
    alone = [decode_segments(model, [segment])[0] for segment in segments]
    assert all(r.words for r in alone)
    calls = []
    for budget_s in (3.5, 30.0):
        scheduler = PassScheduler(model, workers=2, max_batch=8, spare_audio_s=budget_s)
        jobs = [SegmentJob(audio, offset_s) for audio, offset_s in segments]
        for job in jobs:
            scheduler.offer(job)
        results = await asyncio.wait_for(asyncio.gather(*(j.future for j in jobs)), 30)
        assert [r.words for r in results] == [r.words for r in alone]
        calls.append(scheduler.spare_calls)
    # The first offer starts a call at once; the rest wait for it, then go one by one
    # within 3.5 s, or all together.
    assert calls == [4, 2]


async def test_a_busy_node_spaces_every_sessions_passes(
    model: SpeechModel, clips: list[Samples]
) -> None:
    """Sessions that keep the worker busy stretch the passes of every session apart: a
    pass then waits for `busy_pass_stretch` times `min_pass_audio_ms` of new audio."""
    workers = model.settings.max_concurrent_inference  # all of them, kept busy
    scheduler = PassScheduler(model, workers=workers, max_batch=8, most_stretch=2.0)
    late = StreamingTranscriber(model, scheduler=scheduler)
    for _ in range(2):  # longer than the few seconds utilisation looks back on
        await asyncio.gather(*(stream(model, c, scheduler, i) for i, c in enumerate(clips)))
    assert model.busy.value > 0.7
    assert late.pace == 2.0
    settings = model.settings
    audio = clips[0]
    step = SAMPLE_RATE * settings.min_pass_audio_ms // 1000
    fed = SAMPLE_RATE * settings.min_window_ms // 1000
    late.feed(audio[:fed])
    # Speech has just begun, yet no glimpses: they are spare work.
    assert not late.glimpsing
    assert late.pace == 2.0
    await late.update()
    assert late.passes == 1
    late.feed(audio[fed : fed + step * 3 // 2])
    await late.update()
    assert late.passes == 1  # 1.5 times the usual new audio is not enough now
    late.feed(audio[fed + step * 3 // 2 : fed + step * 2])
    await late.update()
    assert late.passes == 2
