"""One suite for both blob stores: local files, and S3 through boto3 against a moto server."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from storage.blob_factory import create_blob_store
from storage.blob_s3 import S3BlobStore
from storage.blobs import BlobNotFound, BlobStore, LocalBlobStore, audio_key, check_key
from storage.errors import NotFound
from storage.settings import BlobSettings

KEY = "audio/ab/recording.wav"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256))

BAD_KEYS = [
    "../etc/passwd",
    "audio/../../etc/passwd",
    "audio/..",
    "/etc/passwd",
    "Audio/x.wav",
    "audio/x.WAV",
    "audio/x y.wav",
    "audio\\x.wav",
    "audio/x.wav\n",
    "audio/ü.wav",
    "audio//x.wav",
    "audio/x.wav/",
    ".hidden",
    "audio/.part",
    "",
    "a" * 513,
]


def s3_settings(endpoint: str, *, bucket: str | None = None) -> BlobSettings:
    return BlobSettings(
        backend="s3",
        s3_bucket=bucket or f"parley-test-{uuid.uuid4().hex[:12]}",
        s3_endpoint_url=endpoint,
        s3_access_key_id=SecretStr("testing"),
        s3_secret_access_key=SecretStr("testing"),
        s3_create_bucket=True,
        presign_ttl_s=60,
    )


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    if request.param == "local":
        settings = BlobSettings(backend="local", local_path=str(tmp_path / "blobs"))
    else:
        settings = s3_settings(request.getfixturevalue("moto_endpoint"))
    blobs = await create_blob_store(settings)
    try:
        yield blobs
    finally:
        await blobs.close()


async def test_put_then_get(store: BlobStore) -> None:
    await store.put(KEY, WAV, "audio/wav")
    assert await store.get(KEY) == WAV


async def test_put_overwrites(store: BlobStore) -> None:
    await store.put(KEY, WAV, "audio/wav")
    await store.put(KEY, b"second", "audio/wav")
    assert await store.get(KEY) == b"second"


async def test_missing_key_is_blob_not_found(store: BlobStore) -> None:
    with pytest.raises(BlobNotFound) as caught:
        await store.get("audio/00/missing.wav")
    assert isinstance(caught.value, NotFound)
    assert caught.value.status == 404
    assert caught.value.key == "audio/00/missing.wav"


async def test_exists(store: BlobStore) -> None:
    assert not await store.exists(KEY)
    await store.put(KEY, WAV, "audio/wav")
    assert await store.exists(KEY)
    # A prefix of a key names no blob, even where the local store has a folder of that name.
    assert not await store.exists("audio/ab")


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put(KEY, WAV, "audio/wav")
    await store.delete(KEY)
    assert not await store.exists(KEY)
    await store.delete(KEY)
    await store.delete("audio/00/never-written.wav")
    with pytest.raises(BlobNotFound):
        await store.get(KEY)


async def test_audio_keys_are_sharded_and_usable(store: BlobStore) -> None:
    session_id = uuid.UUID("3f2a6c1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b")
    key = audio_key(session_id)
    assert key == f"audio/3f/{session_id}.wav"
    assert audio_key(session_id, "webm").endswith(".webm")
    await store.put(key, WAV, "audio/wav")
    assert await store.get(key) == WAV


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
async def test_bad_keys_are_rejected(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        check_key(key)
    with pytest.raises(ValueError):
        await store.put(key, WAV, "audio/wav")
    with pytest.raises(ValueError):
        await store.get(key)
    with pytest.raises(ValueError):
        await store.exists(key)
    with pytest.raises(ValueError):
        await store.delete(key)
    with pytest.raises(ValueError):
        await store.playback_url(key)


def test_audio_key_rejects_an_odd_extension() -> None:
    with pytest.raises(ValueError):
        audio_key(uuid.uuid4(), "WAV/../x")


async def test_local_store_has_no_playback_url(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put(KEY, WAV, "audio/wav")
    assert await store.playback_url(KEY) is None
    assert store.path(KEY).read_bytes() == WAV


async def test_local_put_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    await store.put(KEY, WAV, "audio/wav")
    await store.put(KEY, WAV[:10], "audio/wav")
    assert [p.name for p in (tmp_path / "audio" / "ab").iterdir()] == ["recording.wav"]


async def test_local_store_refuses_symlinks_out_of_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.wav").write_bytes(b"secret")
    root = tmp_path / "blobs"
    (root / "audio").mkdir(parents=True)
    (root / "audio" / "ab").symlink_to(outside)
    store = LocalBlobStore(root)
    with pytest.raises(ValueError, match="escapes"):
        await store.get("audio/ab/secret.wav")
    with pytest.raises(ValueError, match="escapes"):
        await store.put("audio/ab/new.wav", WAV, "audio/wav")


async def test_presigned_url_downloads_the_bytes(moto_endpoint: str) -> None:
    store = await create_blob_store(s3_settings(moto_endpoint))
    try:
        await store.put(KEY, WAV, "audio/wav")
        url = await store.playback_url(KEY)
        assert url is not None
        assert re.search(r"X-Amz-Expires=60\b", url)
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            response = await client.get(url)
        assert response.status_code == 200
        assert response.content == WAV
        assert response.headers["content-type"] == "audio/wav"
    finally:
        await store.close()


async def test_bucket_creation_is_idempotent(moto_endpoint: str) -> None:
    settings = s3_settings(moto_endpoint)
    first = await S3BlobStore.create(settings)
    second = await S3BlobStore.create(settings)
    try:
        await first.put(KEY, WAV, "audio/wav")
        assert await second.get(KEY) == WAV
    finally:
        await first.close()
        await second.close()


async def test_bucket_creation_outside_us_east_1(moto_endpoint: str) -> None:
    settings = s3_settings(moto_endpoint).model_copy(update={"s3_region": "eu-west-1"})
    store = await S3BlobStore.create(settings)
    try:
        await store.put(KEY, WAV, "audio/wav")
        assert await store.exists(KEY)
    finally:
        await store.close()
