"""Speech-core latency: interim passes, finalize, and finalize plus evaluation.

    .venv/bin/python bench/latency.py [--interval-ms 300] [--strategy tail|full]

Streams each native clip (../shared/speech/native) in 100 ms chunks and asks for an
interim update every `--interval-ms` of audio, as a live session does; compute time only
(one session, no network). Word latency is simulated: a word counts as shown at the
first update whose text holds it, and is late by that update's audio position plus its
compute time minus the word's end in the audio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech.alignment import align
from speech.audio import load_wav_16k
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber
from speech.text import normalize_text

NATIVE = Path(__file__).resolve().parents[2] / "shared" / "speech" / "native"
CHUNK = 1_600


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> None:
    settings = SpeechSettings(final_strategy=args.strategy)
    model = SpeechModel.load(settings)
    evaluator = LocalEvaluator(model)
    entries = [json.loads(line) for line in (NATIVE / "manifest.jsonl").read_text().splitlines()]
    passes: list[float] = []
    finals: list[float] = []
    with_eval: list[float] = []
    word_lag: list[float] = []
    errors = words = 0
    for entry in entries:
        audio = load_wav_16k(NATIVE / entry["file"])
        transcriber = StreamingTranscriber(model, settings=settings)
        shown: list[tuple[float, list[str]]] = []
        every = max(1, args.interval_ms // 100)
        for i, start in enumerate(range(0, len(audio), CHUNK)):
            transcriber.feed(audio[start : start + CHUNK])
            if (i + 1) % every:
                continue
            before = transcriber.passes
            began = time.perf_counter()
            interim = await transcriber.update()
            spent = time.perf_counter() - began
            if transcriber.passes > before:
                passes.append(spent)
            at = (start + CHUNK) / 16_000 + spent
            shown.append((at, normalize_text(f"{interim.committed} {interim.tentative}")))
        began = time.perf_counter()
        final = await transcriber.finalize()
        finals.append(time.perf_counter() - began)
        await evaluator.evaluate_read_aloud(transcriber.audio(), final, entry["text"])
        with_eval.append(time.perf_counter() - began)
        reference = normalize_text(entry["text"])
        pairs = align(reference, normalize_text(final.text))
        errors, words = errors + sum(p.op != "match" for p in pairs), words + len(reference)
        for index, word in enumerate(final.words):
            key = normalize_text(word.word)
            first = next((at for at, ws in shown if ws[index : index + len(key)] == key), None)
            if first is not None and key:
                word_lag.append(max(0.0, first - word.end))
    model.close()

    def line(name: str, values: list[float]) -> str:
        median, p95 = statistics.median(values) * 1000, pct(values, 0.95) * 1000
        return f"{name:<34} n={len(values):<4} p50={median:6.0f} ms  p95={p95:6.0f} ms"

    print(line("interim pass (compute)", passes))
    print(line("word shown after its end", word_lag))
    print(line(f"finalize ({args.strategy})", finals))
    print(line(f"finalize ({args.strategy}) + evaluation", with_eval))
    print(f"final word error rate ({args.strategy}): {errors / words:.3f} over {words} words")
    print(
        f"  of which JFK 11 s: finalize {finals[0] * 1000:.0f} ms, "
        f"+evaluation {with_eval[0] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-ms", type=int, default=300)
    parser.add_argument("--strategy", choices=["tail", "full"], default="tail")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
