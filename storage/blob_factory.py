"""Choosing the blob store from settings.

Apart from `storage.blobs` because both implementations import the contract from there:
the factory, which imports both, would otherwise close an import cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import assert_never

from storage.blob_s3 import S3BlobStore
from storage.blobs import BlobStore, LocalBlobStore
from storage.settings import BlobSettings


async def create_blob_store(settings: BlobSettings) -> BlobStore:
    """The store `settings.backend` names; the caller owns it and must `close()` it.

    Async because the S3 store may create its bucket; call it from the app's lifespan.
    """
    match settings.backend:
        case "local":
            return LocalBlobStore(Path(settings.local_path))
        case "s3":
            return await S3BlobStore.create(settings)
        case _:
            assert_never(settings.backend)
