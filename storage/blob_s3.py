"""The S3 blob store: recordings as objects in one bucket (AWS S3, MinIO, Ceph, ...).

boto3 is synchronous, so every call that may touch the network (building the client reads
credentials, presigning may fetch them from instance metadata) runs in a worker thread.
A boto3 client is thread-safe once built; the store owns it and closes it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from storage.blobs import BlobNotFound, check_key
from storage.settings import BlobSettings

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.literals import BucketLocationConstraintType

# HEAD answers carry no body, so a missing object or bucket shows only as its status code.
MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def build_client(settings: BlobSettings) -> S3Client:
    """A client for `settings`; unset credentials fall back to boto3's usual chain."""
    key_id, secret = settings.s3_access_key_id, settings.s3_secret_access_key
    # A private session: boto3's default session is shared module state, not thread-safe.
    session = boto3.session.Session(
        aws_access_key_id=key_id.get_secret_value() if key_id else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        region_name=settings.s3_region,
    )
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard"},
        # S3-compatible servers (MinIO, Ceph) rarely have wildcard DNS for bucket hosts.
        s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
    )
    return session.client("s3", endpoint_url=settings.s3_endpoint_url, config=config)


class S3BlobStore:
    """Blobs in `bucket`; playback URLs are presigned GETs valid for `presign_ttl_s`."""

    def __init__(self, client: S3Client, *, bucket: str, presign_ttl_s: int) -> None:
        self.client = client
        self.bucket = bucket
        self.presign_ttl_s = presign_ttl_s

    @classmethod
    async def create(cls, settings: BlobSettings) -> S3BlobStore:
        """Build the client, and the bucket too when `settings.s3_create_bucket` asks."""
        client = await asyncio.to_thread(build_client, settings)
        store = cls(client, bucket=settings.s3_bucket, presign_ttl_s=settings.presign_ttl_s)
        if settings.s3_create_bucket:
            try:
                await asyncio.to_thread(store._ensure_bucket, settings.s3_region)
            except BaseException:
                client.close()
                raise
        return store

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        check_key(key)
        return await asyncio.to_thread(self._read, key)

    async def delete(self, key: str) -> None:
        check_key(key)
        # S3 answers 204 for a missing object too, which makes this idempotent.
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=key)

    async def exists(self, key: str) -> bool:
        check_key(key)
        return await asyncio.to_thread(self._head, key)

    async def playback_url(self, key: str) -> str | None:
        check_key(key)
        return await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.presign_ttl_s,
        )

    async def close(self) -> None:
        # Closing only drops pooled connections: no request is made, so no thread needed.
        self.client.close()

    def _read(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in MISSING:
                raise BlobNotFound(key) from exc
            raise
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def _head(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in MISSING:
                return False
            raise
        return True

    def _ensure_bucket(self, region: str) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if error_code(exc) not in MISSING | {"NoSuchBucket"}:
                raise
        try:
            if region == "us-east-1":  # the one region that rejects a location constraint
                self.client.create_bucket(Bucket=self.bucket)
            else:
                location = cast("BucketLocationConstraintType", region)
                self.client.create_bucket(
                    Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": location}
                )
        except ClientError as exc:
            # Another node may have created it between our HEAD and our CREATE.
            if error_code(exc) != "BucketAlreadyOwnedByYou":
                raise
