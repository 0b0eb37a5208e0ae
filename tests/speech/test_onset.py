"""Speech after a pause: passes come quicker until it is heard, so its first word shows
as soon as mid-phrase words do (which Whisper often completes before they end)."""

from __future__ import annotations

import asyncio

import numpy as np

from speech.audio import Samples
from speech.decoding import decode
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber
from speech.text import normalize_text

CHUNK = 1_600  # 100 ms


async def first_shown(
    model: SpeechModel, settings: SpeechSettings, audio: Samples, phrases: list[str]
) -> tuple[dict[str, float], int]:
    """Stream `audio` in 100 ms chunks, updating as a live session paces its passes (the
    next one `interim_interval_ms * pace` of audio after the last began; compute time
    left out, so positions are audio positions). Returns where each phrase first showed
    and how many passes ran."""
    transcriber = StreamingTranscriber(model, settings=settings)
    next_pass_s = 0.0
    shown: dict[str, float] = {}
    for start in range(0, len(audio), CHUNK):
        transcriber.feed(audio[start : start + CHUNK])
        now_s = (start + CHUNK) / 16_000
        if now_s + 1e-9 < next_pass_s:
            continue
        passes = transcriber.passes
        interim = await asyncio.wait_for(transcriber.update(), 5)
        if transcriber.passes > passes:
            next_pass_s = now_s + settings.interim_interval_ms / 1000 * transcriber.pace
        heard = " ".join(normalize_text(f"{interim.committed} {interim.tentative}"))
        for phrase in phrases:
            if phrase not in shown and phrase in heard:
                shown[phrase] = now_s
    return shown, transcriber.passes


async def test_words_after_a_pause_show_by_their_end(model: SpeechModel, jfk: Samples) -> None:
    """jfk.wav twice, 1 s apart: the first "And" and the "And" after the pause."""
    gap_s = 1.0
    audio = np.concatenate([jfk, np.zeros(int(gap_s * 16_000), np.float32), jfk])
    and_end_s = next(w.end for w in decode(model, jfk).words if w.key == "and")
    again_s = len(jfk) / 16_000 + gap_s
    phrases = ["and", "your country and"]
    quick, passes = await first_shown(model, SpeechSettings(), audio, phrases)
    assert quick["and"] <= and_end_s + 0.1, quick  # not at `min_window_ms` (1 s)
    assert quick["your country and"] <= again_s + and_end_s + 0.1, quick
    # The same session with every pass `interim_interval_ms` apart.
    steady, steady_passes = await first_shown(
        model, SpeechSettings(onset_interval_ms=300), audio, phrases
    )
    assert steady["your country and"] > quick["your country and"], (steady, quick)
    # Quicker passes last only until the new speech is heard.
    assert steady_passes < passes < 2 * steady_passes
