"""Errors raised by the speech core.

    SpeechError                 base of everything below
    ├── AudioFormatError        audio the client declared or sent cannot be decoded
    ├── TranscriberClosedError  audio fed or work asked for after `finalize()`
    ├── ModelLoadError          the configured model cannot be loaded
    └── UnknownEvaluatorError   a version of the evaluator this node does not have

The websocket and REST layers map these to their own codes; the speech core never
knows about HTTP statuses or close codes (it imports nothing from the web stack).
"""

from __future__ import annotations


class SpeechError(Exception):
    """Base of the speech core's exceptions."""


class AudioFormatError(SpeechError, ValueError):
    """Unsupported sample rate, sample width or channel count, or undecodable bytes."""


class TranscriberClosedError(SpeechError, RuntimeError):
    """The transcriber was finalised; it takes no more audio."""


class ModelLoadError(SpeechError):
    """The configured speech model cannot be loaded (missing folder, uncached name...)."""


class UnknownEvaluatorError(SpeechError, LookupError):
    """Work asked for an evaluator version this node cannot score with (a rescoring job
    made for another release, or a version mistyped)."""

    def __init__(self, version: str, offered: tuple[str, ...]) -> None:
        super().__init__(
            f"evaluator {version!r} is not here; this node offers: {', '.join(offered)}"
        )
        self.version = version
        self.offered = offered
