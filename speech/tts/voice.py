"""The contract of a text-to-speech engine, and the errors it raises.

SpeechError                 (speech.errors)
└── TtsError                the engine could not speak the text
    ├── TtsUnavailable      the engine is not there or not answering (missing binary,
    │                       unreachable service, time-out): nothing the caller can fix
    └── UnknownVoice        the engine has no voice of that name
"""

from __future__ import annotations

from typing import Protocol

from speech.errors import SpeechError

MIN_RATE = 50
MAX_RATE = 200


class TtsError(SpeechError):
    """Base of the text-to-speech errors."""


class TtsUnavailable(TtsError):
    """The engine cannot speak at all right now; the message says what an operator can do."""


class UnknownVoice(TtsError, ValueError):
    def __init__(self, voice: str, engine: str) -> None:
        super().__init__(f"{engine} has no voice {voice!r}")
        self.voice = voice
        self.engine = engine


class Voice(Protocol):
    """A text-to-speech engine. Implementations bound their own concurrency and time."""

    @property
    def name(self) -> str:
        """The engine's name, e.g. "espeak-ng"."""
        ...

    @property
    def default_voice(self) -> str:
        """The voice used when an exercise names none."""
        ...

    async def version(self) -> str:
        """What identifies the engine's output beyond text, voice and rate: a new version
        may say the same text differently, so cached audio is keyed by it. Raises
        TtsUnavailable when the engine is not there."""
        ...

    async def synthesize(self, text: str, *, voice: str, rate: int) -> bytes:
        """`text` spoken as a 16 kHz mono 16-bit WAV file.

        `rate` is a percentage of the voice's normal speed, MIN_RATE to MAX_RATE. Raises
        UnknownVoice or TtsUnavailable.
        """
        ...

    async def close(self) -> None:
        """Release the engine's clients; it is unusable afterwards."""
        ...
