"""Final-transcript fidelity: Parley's final against plain faster-whisper `transcribe()` of the
same audio with the same model, on every native clip alone, on sessions of several clips
joined by silences in several orders, and on the regression recordings.

    .venv/bin/python bench/fidelity.py [--json]

Parley's final is made as a live session makes it (`workers.engines.transcribe`: the same
transcriber, segmenter and final decoder); `transcribe()` runs with its default 30 s windows
(each prompted with the text before it) and Parley's beam size (`--beam N` sets both; the
default is Parley's greedy decoding). Word errors are counted after Parley's text
normalisation. The suite's tests/speech/test_fidelity.py holds Parley to `MARGIN` of
`transcribe()` on every case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.programme import PROGRAMME, manifest
from bench.stats import word_errors
from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.engine import WhisperEngine
from speech.settings import SpeechSettings
from workers.engines import transcribe

SHARED = Path(__file__).resolve().parents[2] / "shared" / "speech"
NATIVE = SHARED / "native"
REGRESSIONS = SHARED / "regressions"
DROPPED_PHRASE_TEXT = (
    "unless a system is established for the frequent formal review of activities thereunder "
    "in this regard And so my fellow Americans ask not what your country can do for you "
    "ask what you can do for your country"
)
GAP_S = 0.5
# Parley may make at most this many more word errors than `transcribe()` on a case: one word,
# or 2 % of the reference words on a long one.
MARGIN = (1, 0.02)


@dataclass(frozen=True)
class Case:
    name: str
    audio: Samples
    reference: str


@dataclass(frozen=True)
class Result:
    case: str
    words: int
    parley_errors: int
    plain_errors: int
    parley_text: str

    @property
    def allowed(self) -> int:
        return self.plain_errors + max(MARGIN[0], round(MARGIN[1] * self.words))

    @property
    def ok(self) -> bool:
        return self.parley_errors <= self.allowed


def cases() -> list[Case]:
    texts = manifest()
    clips = {name: load_wav_16k(NATIVE / name) for name in texts}
    found = [Case(name, audio, texts[name]) for name, audio in clips.items()]
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    orders = {
        "session from jfk": list(PROGRAMME),
        "session from 0880": [*PROGRAMME[2:], *PROGRAMME[:2]],
        "session from 0920": [*PROGRAMME[4:], *PROGRAMME[:4]],
        "session reversed": list(reversed(PROGRAMME)),
    }
    for name, order in orders.items():
        parts: list[Samples] = []
        for clip in order:
            parts += [clips[clip], gap]
        audio = np.concatenate(parts[:-1])
        found.append(Case(name, audio, " ".join(texts[clip] for clip in order)))
    dropped = load_wav_16k(REGRESSIONS / "dropped-phrase.wav")
    found.append(Case("dropped-phrase.wav", dropped, DROPPED_PHRASE_TEXT))
    return found


def plain_transcribe(engine: WhisperEngine, audio: Samples) -> str:
    model = engine.model
    beam = model.settings.beam_size
    segments, _ = model.whisper.transcribe(audio, language="en", beam_size=beam)
    return " ".join(segment.text.strip() for segment in segments)


def _compounds_whole(text: str) -> str:
    """A hyphenated compound as one word: the margin is "one word", and "ill-disposed"
    heard as "old-sposed" is one misheard word, not two."""
    return re.sub(r"(?<=\w)-(?=\w)", "", text)


async def measure(engine: WhisperEngine, case: Case) -> Result:
    final = await transcribe(engine, case.audio)
    plain = await asyncio.to_thread(plain_transcribe, engine, case.audio)
    reference = _compounds_whole(case.reference)
    parley_errors, words = word_errors(reference, _compounds_whole(final.text))
    plain_errors, _ = word_errors(reference, _compounds_whole(plain))
    return Result(case.name, words, parley_errors, plain_errors, final.text)


async def run(settings: SpeechSettings) -> list[Result]:
    engine = WhisperEngine(settings)
    await engine.load(warm=False)
    try:
        return [await measure(engine, case) for case in cases()]
    finally:
        engine.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--beam", type=int, default=SpeechSettings().beam_size)
    args = parser.parse_args()
    results = asyncio.run(run(SpeechSettings(beam_size=args.beam)))
    if args.json:
        print(json.dumps([r.__dict__ | {"ok": r.ok} for r in results], indent=2))
    else:
        print("| case | words | Parley errors | transcribe() errors | within margin |")
        print("|---|---|---|---|---|")
        for r in results:
            ok = "yes" if r.ok else "NO"
            print(f"| {r.case} | {r.words} | {r.parley_errors} | {r.plain_errors} | {ok} |")
        total = sum(r.words for r in results)
        parley = sum(r.parley_errors for r in results) / total
        plain = sum(r.plain_errors for r in results) / total
        print(f"\npooled WER: Parley {parley:.3f}, transcribe() {plain:.3f}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
