"""Settings sections owned by the storage package: database, blob store and Redis."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class DatabaseSettings(BaseModel):
    url: str = Field(
        default="sqlite+aiosqlite:///var/parley.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    echo: bool = Field(default=False, description="Log every SQL statement.")
    pool_size: int = Field(default=10, ge=1, description="Connection pool size (PostgreSQL).")


class BlobSettings(BaseModel):
    backend: Literal["local", "s3"] = Field(default="local", description="Where audio is kept.")
    local_path: str = Field(default="var/blobs", description="Folder of the local blob store.")
    s3_bucket: str = Field(default="parley-audio", description="S3 bucket name.")
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (MinIO, Ceph...); unset for AWS."
    )
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    s3_access_key_id: SecretStr | None = Field(default=None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    s3_create_bucket: bool = Field(
        default=False, description="Create the bucket at start-up when it does not exist."
    )
    presign_ttl_s: int = Field(default=900, ge=1, description="Lifetime of playback URLs.")


class RedisSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="redis://host:port/db; unset runs one process with in-memory bus and queue.",
    )
    key_prefix: str = Field(default="parley", description="Prefix of every Redis key and channel.")
