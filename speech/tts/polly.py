"""`PollyVoice`: model audio from Amazon Polly, for a school that prefers a cloud voice.

boto3 is synchronous, so building the client and each request run in a worker thread (as
the S3 blob store does). Polly answers raw 16 kHz PCM, which is wrapped in a WAV header
here; the rate goes in SSML (`<prosody rate>`), which also means the text is escaped.
"""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Any
from xml.sax.saxutils import escape

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from speech.tts.settings import TtsSettings
from speech.tts.voice import TtsUnavailable, UnknownVoice

SAMPLE_RATE = 16_000
# Polly bills up to 3000 characters of text per request (6000 with SSML): longer texts
# go in pieces cut at spaces, their audio joined.
MAX_CHARS = 1500
# What Polly answers for a voice it does not have, or one that lacks the engine asked for.
VOICE_ERRORS = frozenset(
    {"ValidationException", "InvalidParameterValue", "EngineNotSupportedException"}
)


def pieces(text: str, limit: int = MAX_CHARS) -> list[str]:
    """`text` cut at spaces into pieces of at most `limit` characters (a longer word alone)."""
    out: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > limit:
            out.append(current)
            current = ""
        current = f"{current} {word}" if current else word
    return [*out, current] if current else out


def ssml(text: str, rate: int) -> str:
    return f'<speak><prosody rate="{rate}%">{escape(text)}</prosody></speak>'


def wav_from_pcm(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm[: len(pcm) - len(pcm) % 2])
    return buffer.getvalue()


def build_client(settings: TtsSettings) -> Any:
    key_id, secret = settings.polly_access_key_id, settings.polly_secret_access_key
    # A private session: boto3's default session is shared module state, not thread-safe.
    session = boto3.session.Session(
        aws_access_key_id=key_id.get_secret_value() if key_id else None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        region_name=settings.polly_region,
    )
    config = Config(
        retries={"mode": "standard"},
        connect_timeout=min(10.0, settings.timeout_s),
        read_timeout=settings.timeout_s,
        max_pool_connections=settings.max_concurrent,
    )
    return session.client("polly", endpoint_url=settings.polly_endpoint_url, config=config)


class PollyVoice:
    name = "polly"

    def __init__(self, settings: TtsSettings) -> None:
        self.settings = settings
        self.default_voice = settings.polly_voice
        self._limit = asyncio.Semaphore(settings.max_concurrent)
        self._client: Any = None
        self._client_lock = asyncio.Lock()

    async def version(self) -> str:
        # Polly publishes no version; its engine is what changes how a voice sounds.
        return self.settings.polly_engine

    async def synthesize(self, text: str, *, voice: str, rate: int) -> bytes:
        client = await self._get_client()
        async with self._limit:
            pcm = [
                await asyncio.to_thread(self._speak, client, part, voice, rate)
                for part in pieces(text)
            ]
        return wav_from_pcm(b"".join(pcm))

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _get_client(self) -> Any:
        async with self._client_lock:
            if self._client is None:
                self._client = await asyncio.to_thread(build_client, self.settings)
            return self._client

    def _speak(self, client: Any, text: str, voice: str, rate: int) -> bytes:
        try:
            response = client.synthesize_speech(
                Engine=self.settings.polly_engine,
                OutputFormat="pcm",
                SampleRate=str(SAMPLE_RATE),
                Text=ssml(text, rate),
                TextType="ssml",
                VoiceId=voice,
            )
            stream = response["AudioStream"]
            try:
                data: bytes = stream.read()
            finally:
                stream.close()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in VOICE_ERRORS:
                raise UnknownVoice(voice, self.name) from exc
            raise TtsUnavailable(f"model audio unavailable: Amazon Polly answered {code}") from exc
        except BotoCoreError as exc:
            raise TtsUnavailable(f"model audio unavailable: Amazon Polly: {exc}") from exc
        return data
