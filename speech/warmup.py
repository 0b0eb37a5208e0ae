"""Warm a freshly loaded model before the node reports ready.

CTranslate2 sets up each model replica on its first call: the first interim pass of a
node's first session took ~0.55 s longer than later ones here, and its first final
~0.14 s longer, so the first learner's first words showed late. One pass per inference
worker (at once, so every replica takes one) and one final segment do it at start-up.
"""

from __future__ import annotations

import asyncio

from speech.audio import SAMPLE_RATE, load_wav_16k
from speech.model import SpeechModel
from speech.samples import JFK
from speech.segment_batch import decode_segments
from speech.window_batch import Window, decode_windows

_WINDOW_S = 2.0


async def warm_up(model: SpeechModel) -> None:
    audio = load_wav_16k(JFK.wav())[: int(_WINDOW_S * SAMPLE_RATE)]
    window = Window(audio, (), 0.0)
    workers = model.settings.max_concurrent_inference
    await asyncio.gather(
        *(model.run_interim(decode_windows, model, [window]) for _ in range(workers))
    )
    await model.run_interim(decode_segments, model, [(audio, 0.0)])
