"""The final transcript decoded segment by segment, closed segments while audio still comes.

Real model, real recordings; no timing assertions (stop -> final is measured in
bench/ws_latency.py).
"""

from __future__ import annotations

import asyncio

import numpy as np

from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.batching import PassScheduler
from speech.model import SpeechModel
from speech.streaming import StreamingTranscriber
from tests.speech.conftest import JFK_TEXT, NATIVE
from tests.speech.test_streaming import word_error_rate

CHUNK = 1_600  # 100 ms
CLIPS = (
    "jfk.wav",
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "sense_and_sensibility_01_austen_64kb-0920.wav",
)


async def streamed(
    model: SpeechModel, audio: Samples, scheduler: PassScheduler
) -> StreamingTranscriber:
    """Fed in 100 ms chunks with an interim update after each, as a live session is
    (faster than real time: the spare worker gets the gaps the updates leave)."""
    transcriber = StreamingTranscriber(model, scheduler=scheduler)
    for start in range(0, len(audio), CHUNK):
        transcriber.feed(audio[start : start + CHUNK])
        await asyncio.wait_for(transcriber.update(), 10)
        await asyncio.sleep(0.02)
    return transcriber


async def test_segments_closed_before_stop_are_decoded_by_then(
    model: SpeechModel, jfk: Samples
) -> None:
    scheduler = PassScheduler(model, workers=2, max_batch=8)
    transcriber = await streamed(model, jfk, scheduler)
    await asyncio.sleep(1.0)  # the learner pauses before pressing stop
    assert scheduler.spare_calls >= 1
    final = await asyncio.wait_for(transcriber.finalize(), 10)
    assert len(final.segments) >= 2
    assert final.segments[0][0] == 0.0 and final.segments[-1][1] <= 11.0
    assert word_error_rate(JFK_TEXT, final.text) <= 0.1
    # Decoded partly before stop or all at the end: the same final, which a resumed
    # session relies on.
    whole = StreamingTranscriber(model)
    whole.feed(jfk)
    assert (await asyncio.wait_for(whole.finalize(), 10)).words == final.words


async def test_final_of_a_long_stream_needs_no_interim_passes(model: SpeechModel) -> None:
    pause = np.zeros(SAMPLE_RATE, np.float32)
    clips = [load_wav_16k(NATIVE / name) for name in CLIPS]
    audio = np.concatenate([part for clip in clips for part in (clip, pause)])
    assert len(audio) > 35 * SAMPLE_RATE  # more than one 30 s window
    transcriber = StreamingTranscriber(model)
    transcriber.feed(audio)
    final = await asyncio.wait_for(transcriber.finalize(), 30)
    assert transcriber.passes == 0
    text = final.text.lower()
    assert "ask not what your country" in text and "dashwood" in text
    assert final.words[-1].end > 35.0
    assert [w.start for w in final.words] == sorted(w.start for w in final.words)


async def test_an_abandoned_session_leaves_no_work_behind(model: SpeechModel, jfk: Samples) -> None:
    scheduler = PassScheduler(model, workers=2, max_batch=8)
    transcriber = StreamingTranscriber(model, scheduler=scheduler)
    transcriber.feed(jfk)  # holds closed segments, offered to the spare worker
    transcriber.close()
    await asyncio.sleep(0.5)
    assert scheduler.spare_calls == 0
