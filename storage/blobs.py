"""Blob storage for recorded audio: the `BlobStore` contract, its keys and the local store.

Keys are built here (`audio_key`, `model_audio_key`) and checked on every call
(`check_key`), so a key never carries user input and never names anything outside the
store: `/`-separated segments of lowercase letters, digits and `_ . -`, each segment
starting with a letter or a digit, no `..`, at most 512 characters (the width of
`practice_sessions.audio_blob_key`). A bad key is a programming error, so it raises
ValueError rather than a user-facing error.

Implementations: `LocalBlobStore` below (files under one folder, the default) and
`storage.blob_s3.S3BlobStore`; `storage.blob_factory.create_blob_store` picks one from
settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Protocol

from storage.errors import NotFound

KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*(?:/[a-z0-9][a-z0-9_.-]*)*")
MAX_KEY_LENGTH = 512


class BlobNotFound(NotFound):
    """No blob under the key: a `NotFound`, so the REST layer answers 404 unaided."""

    def __init__(self, key: str) -> None:
        super().__init__("blob not found", code="blob_not_found")
        self.key = key


def check_key(key: str) -> str:
    """Return `key` unchanged if it is a valid blob key, else raise ValueError."""
    if len(key) > MAX_KEY_LENGTH or ".." in key or KEY_PATTERN.fullmatch(key) is None:
        raise ValueError(f"invalid blob key: {key!r}")
    return key


def audio_key(session_id: uuid.UUID, extension: str = "wav") -> str:
    """The key of a practice session's recording, e.g. "audio/3f/3f2a…-….wav".

    The first two hex digits of the id shard the keys, so no folder of the local store
    grows past a few thousand entries.
    """
    return check_key(f"audio/{session_id.hex[:2]}/{session_id}.{extension}")


def model_audio_key(digest: str) -> str:
    """The key of model audio named by `digest` (lowercase hex of what it speaks and how),
    e.g. "tts/9c/9c41….wav": the same text, voice, rate and engine share one blob."""
    return check_key(f"tts/{digest[:2]}/{digest}.wav")


class BlobStore(Protocol):
    """Bytes under keys. Every method raises ValueError for an invalid key."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing any blob there; no reader sees half of it."""

    async def get(self, key: str) -> bytes:
        """The blob under `key`; raises BlobNotFound when there is none."""

    async def delete(self, key: str) -> None:
        """Remove the blob under `key`; deleting a missing blob is not an error."""

    async def exists(self, key: str) -> bool: ...

    async def playback_url(self, key: str) -> str | None:
        """A URL a browser can fetch the blob from, or None when the app must serve it.

        The URL is signed, not checked: for a missing key it exists but answers 404.
        """

    async def close(self) -> None:
        """Release the store's clients; the store is unusable afterwards."""


class LocalBlobStore:
    """Blobs as files under `root`, which is created on the first write.

    Content types are not kept: the key's extension says what the file holds. There is no
    playback URL; the REST layer serves the file from `path(key)` itself, which lets it
    answer range requests without reading the whole recording into memory.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file of `key`; raises ValueError if it would resolve outside the root."""
        path = (self.root / check_key(key)).resolve()
        # The key pattern already forbids "..": this catches symlinks leading out of root.
        if not path.is_relative_to(self.root):
            raise ValueError(f"blob key escapes the store: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, key, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, key)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._remove, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(lambda: self.path(key).is_file())

    async def playback_url(self, key: str) -> str | None:
        check_key(key)
        return None

    async def close(self) -> None:
        return None

    def _write(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The temporary file sits in the target folder because os.replace is atomic only
        # within one file system; its name starts with a dot, which no valid key does.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def _read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise BlobNotFound(key) from exc

    def _remove(self, key: str) -> None:
        # A folder is not a blob, so "deleting" one is as much a no-op as a missing file.
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            self.path(key).unlink()
