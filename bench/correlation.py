"""Validity of Parley's scores: Pearson correlation with speechocean762's expert ratings.

    .venv/bin/python bench/correlation.py [--limit N] [--speech DIR]

Each utterance is transcribed as a live session's final transcript is (in segments cut
at pauses, `speech.final_decoder`) and evaluated as a read-aloud of its prompt; Parley's
accuracy, fluency and overall scores are correlated with the experts' accuracy, fluency
and total, separately for the "published" and the "prerelease-mean-of-5" label sets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech.audio import load_wav_16k
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber

DEFAULT_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "speech"
PAIRS = (("accuracy", "accuracy"), ("fluency", "fluency"), ("overall", "total"))


def pearson(xs: list[float], ys: list[float]) -> float:
    n = len(xs)
    if n < 3:
        return math.nan
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="evaluate the first N utterances")
    parser.add_argument("--speech", type=Path, default=DEFAULT_SPEECH)
    args = parser.parse_args()

    corpus = args.speech / "speechocean762"
    labels = json.loads((corpus / "scores.json").read_text())
    ids = sorted(labels)[: args.limit or None]
    model = SpeechModel.load(SpeechSettings())
    evaluator = LocalEvaluator(model)
    ours: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    theirs: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    started = time.perf_counter()
    for utterance in ids:
        label = labels[utterance]
        audio = load_wav_16k(corpus / "wav" / f"{utterance}.wav")
        transcriber = StreamingTranscriber(model)
        transcriber.feed(audio)
        transcript = asyncio.run(transcriber.finalize())
        scores = evaluator.read_aloud(audio, transcript, label["text"]).scores
        for mine, expert in PAIRS:
            ours[label["labels"]][mine].append(float(getattr(scores, mine)))
            theirs[label["labels"]][expert].append(float(label[expert]))
    elapsed = time.perf_counter() - started
    model.close()

    print(f"{len(ids)} utterances in {elapsed:.1f} s")
    print(f"{'label set':<22} {'n':>4} " + " ".join(f"{m + '~' + e:>20}" for m, e in PAIRS))
    for name in sorted(ours):
        n = len(ours[name]["accuracy"])
        figures = " ".join(f"{pearson(ours[name][m], theirs[name][e]):>20.3f}" for m, e in PAIRS)
        print(f"{name:<22} {n:>4} {figures}")


if __name__ == "__main__":
    main()
