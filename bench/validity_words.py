"""Validity of the word scores a learner sees: Pearson correlation of each reference
word's `accuracy` (0-100, 0 for an omitted word) with speechocean762's experts' word
accuracy (0-10).

    .venv/bin/python bench/validity_words.py [--refresh]

Each reading is transcribed as a live session's final is and analysed by Parley's own
evaluator, phones on as a node's defaults have them (readings up to 15 s), so each word
also has its phones' mean accuracy, shown beside it. The word scores are a fixed formula
of the word's forced and heard probabilities, not a fit, but its constants were tuned by
hand on the train split (the stratified and published-train readings): only the
published-test readings are held out for them. Intervals: a bootstrap over speakers.
Results are cached under var/validity/, keyed like `bench/validity.py`'s features.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.scorer_fit import bootstrap_interval, pearson
from bench.validity import DEFAULT_CACHE, DEFAULT_SPEECH, LABEL_SETS, code_version, speaker_of
from speech.audio import load_wav_16k
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber

Row = dict[str, Any]


def extract(corpus: Path, labels: dict[str, Any], cache: Path, refresh: bool) -> list[Row]:
    """One row per reference word: utterance, word index, Parley's accuracy and phone
    mean (None without phones), the experts' accuracy."""
    settings = SpeechSettings()
    path = cache / f"words-{code_version(settings.model)}.json"
    if path.exists() and not refresh:
        rows: list[Row] = json.loads(path.read_text())
        return rows
    model = SpeechModel.load(settings)
    phones = PhoneAligner(max_audio_s=settings.phones_max_audio_s) if settings.phones else None
    evaluator = LocalEvaluator(model, hand_tuned=True, phones=phones)
    started = time.perf_counter()
    rows = []
    try:
        for utterance in sorted(labels):
            label = labels[utterance]
            audio = load_wav_16k(corpus / "wav" / f"{utterance}.wav")
            transcriber = StreamingTranscriber(model)
            transcriber.feed(audio)
            transcript = asyncio.run(transcriber.finalize())
            analysis = evaluator.analyse(audio, transcript, str(label["text"]))
            said = [w for w in analysis.words if w.expected is not None]
            experts = label["words"]
            if len(said) != len(experts):  # the reference split otherwise than the corpus
                continue
            for index, (word, expert) in enumerate(zip(said, experts, strict=True)):
                marks = [p.accuracy for p in word.phones or ()]
                rows.append(
                    {
                        "utterance": utterance,
                        "index": index,
                        "accuracy": word.accuracy,
                        "phones": float(np.mean(marks)) if marks else None,
                        "expert": expert["accuracy"],
                    }
                )
    finally:
        model.close()
    print(f"analysed {len(labels)} readings in {time.perf_counter() - started:.0f} s")
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows))
    return rows


def report(rows: list[Row], labels: dict[str, Any]) -> list[str]:
    out = [
        "| label set | words | speakers | word accuracy | phones' mean (words with phones) |",
        "|---|---:|---:|---|---|",
    ]
    for name, tag in LABEL_SETS.items():
        mine = [r for r in rows if labels[r["utterance"]]["labels"] == tag]
        speakers = np.array([speaker_of(r["utterance"], labels[r["utterance"]]) for r in mine])
        ours = np.array([r["accuracy"] for r in mine], dtype=np.float64)
        experts = np.array([r["expert"] for r in mine], dtype=np.float64)
        lo, hi = bootstrap_interval(ours, experts, speakers)
        cells = [f"{pearson(ours, experts):.2f} [{lo:.2f}, {hi:.2f}]"]
        with_phones = np.array([r["phones"] is not None for r in mine])
        if with_phones.any():
            marks = np.array([r["phones"] for r in mine if r["phones"] is not None], np.float64)
            lo, hi = bootstrap_interval(marks, experts[with_phones], speakers[with_phones])
            r = pearson(marks, experts[with_phones])
            cells.append(f"{r:.2f} [{lo:.2f}, {hi:.2f}] ({int(with_phones.sum())})")
        else:
            cells.append("-")
        out.append(
            f"| {name} | {len(mine)} | {len(set(speakers.tolist()))} | " + " | ".join(cells) + " |"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, default=DEFAULT_SPEECH)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--refresh", action="store_true", help="analyse again, cache or not")
    args = parser.parse_args()
    corpus = args.speech / "speechocean762"
    labels = json.loads((corpus / "scores.json").read_text())
    rows = extract(corpus, labels, args.cache, args.refresh)
    skipped = len(labels) - len({r["utterance"] for r in rows})
    print(f"{len(rows)} words of {len(labels) - skipped} readings; {skipped} left out, where")
    print("the evaluator split the text into other words than the corpus did\n")
    print("\n".join(report(rows, labels)))


if __name__ == "__main__":
    main()
