"""The Whisper engines a worker rescores with: one per model name, loaded on first use.

Each engine is the live sessions' own (`realtime.engine.WhisperEngine`), so a stored session
is transcribed and evaluated by exactly the code that scored it live.
"""

from __future__ import annotations

import asyncio

from realtime.engine import WhisperEngine
from realtime.ports import Samples
from speech.audio import SAMPLE_RATE
from speech.decoding import HOP, MAX_FRAMES
from speech.settings import SpeechSettings
from speech.transcript import FinalTranscript

_ONE_PASS_S = MAX_FRAMES * HOP / SAMPLE_RATE


class Engines:
    """Owns its engines: `close()` releases them. `threads` inference calls run at once."""

    def __init__(self, speech: SpeechSettings, *, default_model: str | None, threads: int) -> None:
        self._speech = speech.model_copy(update={"max_concurrent_inference": threads})
        self.default_model = default_model or speech.model
        self._engines: dict[str, WhisperEngine] = {}
        self._lock = asyncio.Lock()

    async def get(self, model: str | None) -> WhisperEngine:
        name = model or self.default_model
        async with self._lock:
            engine = self._engines.get(name)
            if engine is None:
                engine = WhisperEngine(self._speech.model_copy(update={"model": name}))
                await engine.load()
                self._engines[name] = engine
            return engine

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()


async def transcribe(engine: WhisperEngine, audio: Samples) -> FinalTranscript:
    """The final transcript of a whole recording, as a live session would have made it.

    The `tail` final strategy (or `full` past the 30 s one pass holds) needs the interim
    passes that move the window along, as it got them live; otherwise `finalize()` decodes
    the audio alone, so passes would be wasted work.
    """
    settings = engine.settings
    transcriber = engine.transcriber()
    strategy = settings.final_strategy
    long = len(audio) / SAMPLE_RATE > _ONE_PASS_S
    if strategy == "tail" or (strategy == "full" and long):
        step = SAMPLE_RATE * settings.interim_interval_ms // 1000
        for offset in range(0, len(audio), step):
            transcriber.feed(audio[offset : offset + step])
            await transcriber.update()
    else:
        transcriber.feed(audio)
    return await transcriber.finalize()
