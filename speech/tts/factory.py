"""Choosing the text-to-speech engine from settings."""

from __future__ import annotations

from typing import assert_never

from speech.tts.espeak import EspeakVoice
from speech.tts.polly import PollyVoice
from speech.tts.settings import TtsSettings
from speech.tts.voice import Voice


def create_voice(settings: TtsSettings) -> Voice:
    """The engine `settings.provider` names; nothing is started or contacted until its first
    use, so a server without espeak-ng (or without network) still starts. The caller owns
    it and must `close()` it."""
    match settings.provider:
        case "espeak-ng":
            return EspeakVoice(settings)
        case "polly":
            return PollyVoice(settings)
        case _:
            assert_never(settings.provider)
