"""What the client commands (`parley demo`, `parley evaluate`) share.

Server address and credentials as command-line options, a small REST client that turns
every failure into a one-line `CliError`, reading a WAV file into what the practice
protocol accepts, and printing a final evaluation for a person to read.
"""

from __future__ import annotations

import argparse
import getpass
import io
import logging
import os
import sys
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soxr

from rest.settings import Settings
from speech.audio import MAX_INPUT_RATE, MIN_INPUT_RATE, SAMPLE_RATE

TOKEN_ENV = "PARLEY_TOKEN"
PASSWORD_ENV = "PARLEY_PASSWORD"
CONVERT_HINT = "convert it with: ffmpeg -i IN -ac 1 -ar 16000 -c:a pcm_s16le OUT.wav"


class CliError(Exception):
    """A failure to report to the user as one line, without a traceback."""


def default_server(settings: Settings) -> str:
    """This machine's server as `parley serve` would bind it with the same settings."""
    host = settings.server.host
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{settings.server.port}"


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server and credentials")
    group.add_argument(
        "--server", help="base URL (default: http://127.0.0.1:8000, from PARLEY_SERVER__*)"
    )
    group.add_argument("--token", help=f"access token (default: ${TOKEN_ENV})")
    group.add_argument("--email", help="log in with this account instead of a token")
    group.add_argument("--password", help=f"password for --email (default: ${PASSWORD_ENV})")


@dataclass(frozen=True, slots=True)
class Credentials:
    token: str | None
    email: str | None
    password: str | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Credentials:
        password = args.password or os.environ.get(PASSWORD_ENV)
        if args.email and not password and sys.stdin.isatty():
            password = getpass.getpass(f"password for {args.email}: ")
        if args.email and not password:
            raise CliError(f"--email needs a password: pass --password or set ${PASSWORD_ENV}")
        # An explicit --email beats a token left in the environment.
        token = args.token or (None if args.email else os.environ.get(TOKEN_ENV))
        return cls(token, args.email, password)


class ApiError(CliError):
    """An error answer from the server, with its `code` (see the README's error format)."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            error = response.json()["error"]
            self.code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            self.code, message = str(response.status_code), response.text[:200]
        self.status = response.status_code
        if self.status == 401:
            super().__init__(f"the server refused the credentials: {message}")
        else:
            super().__init__(f"{response.request.method} {response.request.url.path}: {message}")


class Api:
    """The REST API of one server; every transport or HTTP failure becomes a `CliError`."""

    def __init__(self, server: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.server = server.rstrip("/")
        # httpx reports every request at INFO, which would bury the command's own output.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._client = client or httpx.AsyncClient(base_url=self.server, timeout=30.0)
        self.token: str | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def ws_url(self) -> str:
        scheme, rest = self.server.split("://", 1)
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/v1/ws/practice"

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = await self._client.request(method, path, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise CliError(
                f"cannot reach the Parley server at {self.server} ({exc or type(exc).__name__}); "
                "is it running? Start one with `make run`, or pass --server URL"
            ) from exc
        if response.is_success:
            return response.json() if response.content else None
        raise ApiError(response)

    async def sign_in(self, credentials: Credentials) -> None:
        if credentials.token:
            self.token = credentials.token
        elif credentials.email and credentials.password:
            body = {"email": credentials.email, "password": credentials.password}
            self.token = (await self.call("POST", "/v1/auth/login", body))["access_token"]


async def register_learner(api: Api) -> str:
    """Register a throwaway learner and sign in as it; returns its email."""
    email = f"demo-{uuid.uuid4().hex[:10]}@example.org"
    body = {"email": email, "password": uuid.uuid4().hex, "display_name": "Demo learner"}
    try:
        registered = await api.call("POST", "/v1/auth/register", body)
    except ApiError as exc:
        if exc.code != "registration_closed":
            raise
        raise CliError(
            "this server does not allow open registration: pass --token (or set "
            f"${TOKEN_ENV}), or --email and --password of an existing account"
        ) from exc
    api.token = registered["tokens"]["access_token"]
    return email


@dataclass(frozen=True, slots=True)
class Recording:
    """Mono pcm_s16le at a rate the practice protocol accepts."""

    pcm: bytes
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


def read_recording(source: Path | bytes, name: str) -> Recording:
    """A 16-bit PCM WAV file as a `Recording`: channels are averaged, and a rate outside
    8-48 kHz is resampled to 16 kHz; anything else raises `CliError`."""
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        with wave.open(stream, "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from exc
    except (wave.Error, EOFError) as exc:
        raise CliError(f"{name} is not a readable WAV file ({exc}); {CONVERT_HINT}") from exc
    if width != 2:
        raise CliError(f"{name} has {8 * width}-bit samples, not 16-bit PCM; {CONVERT_HINT}")
    if not frames:
        raise CliError(f"{name} holds no audio")
    samples = np.frombuffer(frames[: len(frames) - len(frames) % (2 * channels)], dtype="<i2")
    if channels == 1 and MIN_INPUT_RATE <= rate <= MAX_INPUT_RATE:
        return Recording(samples.tobytes(), rate)
    mono = samples.reshape(-1, channels).astype(np.float32).mean(axis=1)
    if not MIN_INPUT_RATE <= rate <= MAX_INPUT_RATE:
        mono = np.asarray(soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ"), np.float32)
        rate = SAMPLE_RATE
    return Recording(np.clip(mono.round(), -32768, 32767).astype("<i2").tobytes(), rate)


def print_result(transcript: str, evaluation: dict[str, Any]) -> None:
    """The final transcript and evaluation, for a person: scores, word errors, feedback."""
    print(f"\nTranscript: {transcript or '(nothing heard)'}")
    print("\nScores (0-100)")
    for name, value in evaluation.get("scores", {}).items():
        if value is not None:
            print(f"  {name:<13}{value:>4}  {'#' * round(value / 5)}")
    errors = [w for w in evaluation.get("words", []) if w.get("error_type", "none") != "none"]
    if evaluation.get("kind") == "read_aloud" or errors:
        print("\nWord errors" + ("" if errors else ": none"))
        for word in errors:
            expected, heard = word.get("expected") or "-", word.get("heard") or "-"
            accuracy = "" if word.get("accuracy") is None else f"accuracy {word['accuracy']}"
            at = "" if word.get("start") is None else f"at {word['start']:.1f}s"
            line = f"  {word['error_type']:<17}{expected:<14}heard {heard:<14}{accuracy:<13}{at}"
            print(line.rstrip())
    feedback = evaluation.get("feedback") or []
    if feedback:
        print("\nFeedback")
        for tip in feedback:
            print(f"  - {tip}")
