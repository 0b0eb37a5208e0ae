"""The Whisper engines a worker rescores with: one per model name, loaded on first use.

Each engine is the live sessions' own (`speech.engine.WhisperEngine`), so a stored session
is transcribed and evaluated by exactly the code that scored it live.
"""

from __future__ import annotations

import asyncio

from speech.audio import SAMPLE_RATE
from speech.engine import WhisperEngine
from speech.ports import Samples
from speech.settings import SpeechSettings
from speech.streaming import needs_interim_passes
from speech.transcript import FinalTranscript


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
                await engine.load(warm=False)
                self._engines[name] = engine
            return engine

    def close(self) -> None:
        for engine in self._engines.values():
            engine.close()
        self._engines.clear()


async def transcribe(engine: WhisperEngine, audio: Samples) -> FinalTranscript:
    """The final transcript of a whole recording, as a live session would have made it.

    Interim passes are made only where the final needs them (`needs_interim_passes`).
    """
    settings = engine.settings
    transcriber = engine.transcriber()
    if needs_interim_passes(settings, len(audio) / SAMPLE_RATE):
        step = SAMPLE_RATE * settings.interim_interval_ms // 1000
        for offset in range(0, len(audio), step):
            transcriber.feed(audio[offset : offset + step])
            await transcriber.update()
    else:
        transcriber.feed(audio)
    return await transcriber.finalize()
