"""The model audio cache on its own: one synthesis per clip however many ask at once, and
one that outlives the request that started it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from rest.model_audio import ModelAudio, ModelAudioUnavailable, digest
from speech.tts.voice import TtsUnavailable
from storage.blobs import LocalBlobStore, model_audio_key


class SlowVoice:
    """Says each text once `go` is set, counting the requests."""

    name = "slow"
    default_voice = "plain"

    def __init__(self, *, fail: bool = False) -> None:
        self.go = asyncio.Event()
        self.calls = 0
        self.fail = fail

    async def version(self) -> str:
        return "1"

    async def synthesize(self, text: str, *, voice: str, rate: int) -> bytes:
        self.calls += 1
        await self.go.wait()
        if self.fail:
            raise TtsUnavailable("model audio unavailable: the engine stopped")
        return f"RIFF {text} {voice} {rate}".encode()

    async def close(self) -> None:
        return None


class Blobs(LocalBlobStore):
    """Looks blobs up without a thread, so a request that has looked is, in the same step,
    waiting for the clip; `looked` is set once `expected` requests have."""

    def __init__(self, root: Path, *, expected: int) -> None:
        super().__init__(root)
        self.stored: set[str] = set()
        self.lookups = 0
        self.expected = expected
        self.looked = asyncio.Event()

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await super().put(key, data, content_type)
        self.stored.add(key)

    async def exists(self, key: str) -> bool:
        self.lookups += 1
        if self.lookups >= self.expected:
            self.looked.set()
        return key in self.stored


async def all_waiting(blobs: Blobs) -> None:
    await asyncio.wait_for(blobs.looked.wait(), 5)


async def test_concurrent_requests_share_one_synthesis(tmp_path: Path) -> None:
    voice = SlowVoice()
    blobs = Blobs(tmp_path, expected=5)
    cache = ModelAudio(voice, blobs, default_rate=100)
    waiting = [asyncio.create_task(cache.clip("hello", voice=None, rate=None)) for _ in range(5)]
    await all_waiting(blobs)
    voice.go.set()
    clips = await asyncio.wait_for(asyncio.gather(*waiting), 5)

    assert voice.calls == 1
    assert {c.key for c in clips} == {model_audio_key(digest("slow", "1", "plain", 100, "hello"))}
    assert await blobs.get(clips[0].key) == b"RIFF hello plain 100"


async def test_a_request_that_leaves_does_not_cancel_the_synthesis(tmp_path: Path) -> None:
    voice = SlowVoice()
    blobs = Blobs(tmp_path, expected=1)
    cache = ModelAudio(voice, blobs, default_rate=100)
    first = asyncio.create_task(cache.clip("hello", voice="loud", rate=80))
    await all_waiting(blobs)
    first.cancel()
    voice.go.set()

    clip = await asyncio.wait_for(cache.clip("hello", voice="loud", rate=80), 5)
    assert voice.calls == 1
    assert await blobs.get(clip.key) == b"RIFF hello loud 80"


async def test_a_failure_reaches_every_waiter_and_the_next_request_tries_again(
    tmp_path: Path,
) -> None:
    voice = SlowVoice(fail=True)
    blobs = Blobs(tmp_path, expected=2)
    cache = ModelAudio(voice, blobs, default_rate=100)
    waiting = [asyncio.create_task(cache.clip("hello", voice=None, rate=None)) for _ in range(2)]
    await all_waiting(blobs)
    voice.go.set()
    for task in waiting:
        with pytest.raises(ModelAudioUnavailable, match="the engine stopped"):
            await asyncio.wait_for(task, 5)

    voice.fail = False
    clip = await asyncio.wait_for(cache.clip("hello", voice=None, rate=None), 5)
    assert voice.calls == 2 and clip.engine == "slow 1" and clip.key in blobs.stored
