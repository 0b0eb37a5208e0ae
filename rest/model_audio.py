"""Model audio of exercises: made once per text, voice, rate and engine, kept in the blob store.

A clip's blob key is a digest of everything that shapes its sound (engine and version,
voice, rate, text), so an edited reference text, another voice or a new engine release
names a new blob and is synthesised on its next request, while repeated requests read the
stored one. Requests for a clip being made wait for that one synthesis (per node).

Engine failures become errors a client can act on: 503 `model_audio_unavailable` (the
engine is missing or not answering; its message says how to fix it) and 409
`unknown_voice` (the exercise names a voice the engine lacks; its staff can change it).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import re
from dataclasses import dataclass

from speech.text import source_words
from speech.tts.voice import TtsError, UnknownVoice, Voice
from storage.blobs import BlobStore, model_audio_key
from storage.errors import Conflict, InvalidInput, ParleyError

CONTENT_TYPE = "audio/wav"
# Letters and digits, joined by inner apostrophes or hyphens: "don't", "ill-disposed".
WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*")
EDGES = re.compile(r"^[\W_]+|[\W_]+$")


class ModelAudioUnavailable(ParleyError):
    status = 503
    code = "model_audio_unavailable"
    close_code = 1013


@dataclass(frozen=True, slots=True)
class Clip:
    key: str
    text: str
    voice: str
    rate: int
    engine: str  # name and version, e.g. "espeak-ng 1.51"


def reference_word(reference_text: str, asked: str) -> str:
    """The word of `reference_text` that `asked` names (case and surrounding punctuation
    aside), as the text writes it; InvalidInput when it names none."""
    wanted = EDGES.sub("", asked)
    if WORD.fullmatch(wanted) is None:
        raise InvalidInput(
            "word must be letters or digits, joined only by ' or -", code="invalid_word"
        )
    for written in source_words(reference_text):
        word = EDGES.sub("", written)
        if word.casefold() == wanted.casefold():
            return word
    raise InvalidInput("word is not in this exercise's text", code="word_not_in_text", word=asked)


def digest(engine: str, version: str, voice: str, rate: int, text: str) -> str:
    return hashlib.sha256(json.dumps([engine, version, voice, rate, text]).encode()).hexdigest()


class ModelAudio:
    """Owns `voice` (closed with it); `blobs` belongs to the app."""

    def __init__(self, voice: Voice, blobs: BlobStore, *, default_rate: int) -> None:
        self.voice = voice
        self.blobs = blobs
        self.default_rate = default_rate
        self._making: dict[str, asyncio.Task[None]] = {}

    async def clip(self, text: str, *, voice: str | None, rate: int | None) -> Clip:
        """The stored clip of `text`, synthesised first if there is none yet."""
        name = voice or self.voice.default_voice
        speed = rate or self.default_rate
        try:
            version = await self.voice.version()
            key = model_audio_key(digest(self.voice.name, version, name, speed, text))
            if not await self.blobs.exists(key):
                await self._make(key, text, name, speed)
        except UnknownVoice as exc:
            raise Conflict(str(exc), code="unknown_voice", voice=exc.voice) from exc
        except TtsError as exc:
            raise ModelAudioUnavailable(str(exc)) from exc
        return Clip(
            key=key, text=text, voice=name, rate=speed, engine=f"{self.voice.name} {version}"
        )

    async def close(self) -> None:
        for task in self._making.values():
            task.cancel()
        await self.voice.close()

    async def _make(self, key: str, text: str, voice: str, rate: int) -> None:
        task = self._making.get(key)
        if task is None:
            task = asyncio.create_task(self._synthesize(key, text, voice, rate))
            self._making[key] = task
            task.add_done_callback(functools.partial(self._done, key))
        # Shielded: a client that hangs up does not cancel the clip others wait for.
        await asyncio.shield(task)

    async def _synthesize(self, key: str, text: str, voice: str, rate: int) -> None:
        audio = await self.voice.synthesize(text, voice=voice, rate=rate)
        await self.blobs.put(key, audio, CONTENT_TYPE)

    def _done(self, key: str, task: asyncio.Task[None]) -> None:
        del self._making[key]
        # Retrieved here so a failure whose every waiter left is not reported as unretrieved.
        if not task.cancelled():
            task.exception()
