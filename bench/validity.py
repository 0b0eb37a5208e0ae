"""Validity of Parley's scores: cross-validated correlation with speechocean762's experts.

    .venv/bin/python bench/validity.py [--refresh] [--speech DIR] [--cache DIR]

Each utterance is transcribed as a live session's final transcript is (segments cut at
pauses) and Parley's own evaluator computes the trained scorer's features of it (`Local
Evaluator.read_aloud_features`), once: they are cached under var/validity/, keyed by a
hash of speech/'s source and the model, so a re-run takes seconds and a change to the
evaluator re-extracts (about two minutes on two cores).

Then, with no figure ever taken on data a scorer was fitted to:
- the baseline: today's hand-tuned scores against the experts', no fitting at all;
- the trained scorer's recipe (`bench.scorer_fit`), 10-fold cross-validated over speakers,
  with a 95 % interval from a bootstrap over speakers, per label set;
- the corpus's own protocol: fitted on its train split alone, measured on the test split;
- an ablation over the feature groups of `speech.scorer.features`.

Speakers: only the published-test entries carry a `speaker`, but every speechocean762
utterance id is the speaker's five digits and four of its own (checked here against every
`speaker` given), so the stratified and published-train utterances are grouped by speaker
too, not one group per utterance: a speaker's other readings never sit in a training fold.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.scorer_fit import (
    OUTER_FOLDS,
    Labels,
    Matrix,
    bootstrap_gain,
    bootstrap_interval,
    cross_validated,
    fit_selected,
    pearson,
)
from speech.audio import load_wav_16k
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.scorer.features import EMBEDDING_PREFIX, HAND, TIMING, WHISPER
from speech.scorer.intonation import INTONATION
from speech.scorer.linear import TARGETS
from speech.scorer.phones import PHONES
from speech.settings import SpeechSettings
from speech.streaming import StreamingTranscriber

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEECH = ROOT.parent / "shared" / "speech"
DEFAULT_CACHE = ROOT / "var" / "validity"
EXPERT = {"accuracy": "accuracy", "fluency": "fluency", "prosody": "prosodic", "total": "total"}
# The hand-tuned score set against each expert score (it has no prosody: fluency stands in).
BASELINE = {
    "accuracy": "hand_accuracy",
    "fluency": "hand_fluency",
    "prosody": "hand_fluency",
    "total": "hand_overall",
}
LABEL_SETS = {
    "stratified": "prerelease-mean-of-5",
    "published-train": "published",
    "published-test": "published-test",
}


@dataclass(frozen=True)
class Corpus:
    ids: list[str]
    names: list[str]
    x: Matrix  # [utterances, features]
    y: Matrix  # [utterances, TARGETS], expert units 0-10
    sets: Labels  # label set (a LABEL_SETS key)
    speakers: Labels
    split: Labels  # the corpus's train/test split
    key: str  # the evaluator code version the features came from
    model: str


def code_version(model: str) -> str:
    """Hash of every source file of speech/ and the model name."""
    digest = hashlib.sha256(model.encode())
    for path in sorted((ROOT / "speech").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


Features = dict[str, dict[str, float]]


def extract(
    corpus: Path, labels: dict[str, Any], cache: Path, refresh: bool
) -> tuple[str, str, Features]:
    """(code version, model name, features by utterance), from the cache when it has them."""
    settings = SpeechSettings()
    key = code_version(settings.model)
    path = cache / f"features-{key}.json"
    if path.exists() and not refresh:
        cached = json.loads(path.read_text())
        return key, cached["model"], cached["features"]
    model = SpeechModel.load(settings)
    # As a node evaluates: phones as its settings say (the phone features read them).
    phones = PhoneAligner(max_audio_s=settings.phones_max_audio_s) if settings.phones else None
    # Features need no trained weights.
    evaluator = LocalEvaluator(model, hand_tuned=True, phones=phones)
    started = time.perf_counter()
    features: Features = {}
    try:
        for utterance in sorted(labels):
            audio = load_wav_16k(corpus / "wav" / f"{utterance}.wav")
            transcriber = StreamingTranscriber(model)
            transcriber.feed(audio)
            transcript = asyncio.run(transcriber.finalize())
            text = str(labels[utterance]["text"])
            found = evaluator.read_aloud_features(audio, transcript, text)
            features[utterance] = {k: round(v, 6) for k, v in found.items()}
    finally:
        model.close()
    print(f"extracted {len(features)} utterances in {time.perf_counter() - started:.0f} s")
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": model.name, "features": features}))
    return key, model.name, features


def speaker_of(utterance: str, label: dict[str, Any]) -> str:
    derived = utterance[:5].lstrip("0").zfill(4)
    given = label.get("speaker")
    if given is not None and given != derived:
        raise ValueError(f"{utterance}: speaker {given} is not the id's {derived}")
    return derived


def load_corpus(speech: Path, cache: Path, refresh: bool = False) -> Corpus:
    corpus = speech / "speechocean762"
    labels = json.loads((corpus / "scores.json").read_text())
    key, model, features = extract(corpus, labels, cache, refresh)
    ids = sorted(labels)
    names = list(features[ids[0]])
    set_of = {v: k for k, v in LABEL_SETS.items()}
    return Corpus(
        ids=ids,
        names=names,
        x=np.array([[features[u][n] for n in names] for u in ids], dtype=np.float64),
        y=np.array([[labels[u][EXPERT[t]] for t in TARGETS] for u in ids], dtype=np.float64),
        sets=np.array([set_of[labels[u]["labels"]] for u in ids]),
        speakers=np.array([speaker_of(u, labels[u]) for u in ids]),
        split=np.array([labels[u]["split"] for u in ids]),
        key=key,
        model=model,
    )


def columns(corpus: Corpus, groups: tuple[str, ...]) -> list[int]:
    chosen = set()
    for group in groups:
        if group == "embedding":
            chosen |= {i for i, n in enumerate(corpus.names) if n.startswith(EMBEDDING_PREFIX)}
        else:
            names = {
                "hand": HAND,
                "whisper": WHISPER,
                "timing": TIMING,
                "phones": PHONES,
                "intonation": INTONATION,
            }[group]
            chosen |= {corpus.names.index(n) for n in names}
    return sorted(chosen)


ALL = ("hand", "whisper", "timing", "phones", "embedding")
ABLATION = (
    ("hand scores, refitted", ("hand",)),
    ("Whisper evidence", ("whisper",)),
    ("timing", ("timing",)),
    ("phones (GOP)", ("phones",)),
    ("encoder embedding", ("embedding",)),
    ("Whisper evidence + phones", ("whisper", "phones")),
    ("hand + Whisper + timing", ("hand", "whisper", "timing")),
    ("all but Whisper evidence", ("hand", "timing", "phones", "embedding")),
    ("all but timing", ("hand", "whisper", "phones", "embedding")),
    ("all but hand scores", ("whisper", "timing", "phones", "embedding")),
    ("all but phones", ("hand", "whisper", "timing", "embedding")),
    ("all", ALL),
    ("intonation", ("intonation",)),
    ("timing + intonation", ("timing", "intonation")),
    ("all + intonation", (*ALL, "intonation")),
)


def cell(pred: Matrix, truth: Matrix, speakers: Labels) -> str:
    lo, hi = bootstrap_interval(pred, truth, speakers)
    return f"{pearson(pred, truth):.2f} [{lo:.2f}, {hi:.2f}]"


def table(corpus: Corpus, pred: Matrix, rows: Labels | None = None) -> list[str]:
    """One line per label set: n, speakers, r [95 % interval] per target."""
    out = [
        "| label set | utterances | speakers | " + " | ".join(TARGETS) + " |",
        "|---|---:|---:|" + "---|" * len(TARGETS),
    ]
    for name in LABEL_SETS:
        m = corpus.sets == name if rows is None else (corpus.sets == name) & rows
        if m.sum() < 3:
            continue
        cells = [cell(pred[m, t], corpus.y[m, t], corpus.speakers[m]) for t in range(len(TARGETS))]
        speakers = len(set(corpus.speakers[m].tolist()))
        out.append(f"| {name} | {int(m.sum())} | {speakers} | " + " | ".join(cells) + " |")
    return out


def measure(corpus: Corpus, groups: tuple[str, ...] = ALL) -> Matrix:
    """Out-of-fold predictions of the recipe on the feature `groups`."""
    cols = columns(corpus, groups)
    pred, _ = cross_validated(
        corpus.x[:, cols], corpus.y, [corpus.names[i] for i in cols], corpus.speakers, corpus.sets
    )
    return pred


def train_to_test(corpus: Corpus) -> Matrix:
    """The corpus's protocol: fitted on the train split, predictions for the test split."""
    train = corpus.split == "train"
    fitted = fit_selected(
        corpus.x[train],
        corpus.y[train],
        corpus.names,
        corpus.speakers[train],
        corpus.sets[train],
        0,
    )
    return fitted.predict(corpus.x)


def gains(corpus: Corpus, more: Matrix, less: Matrix) -> list[str]:
    """r(more) - r(less) per label set and target, with a paired speaker bootstrap."""
    out = ["| label set | " + " | ".join(TARGETS) + " |", "|---|" + "---|" * len(TARGETS)]
    for name in LABEL_SETS:
        m = corpus.sets == name
        cells = []
        for t in range(len(TARGETS)):
            gain = pearson(more[m, t], corpus.y[m, t]) - pearson(less[m, t], corpus.y[m, t])
            lo, hi = bootstrap_gain(more[m, t], less[m, t], corpus.y[m, t], corpus.speakers[m])
            cells.append(f"{gain:+.3f} [{lo:+.3f}, {hi:+.3f}]")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def report(corpus: Corpus) -> Matrix:
    """Print every table; return the shipped recipe's out-of-fold predictions."""
    print(f"features: evaluator code {corpus.key}, {len(corpus.names)} per utterance")
    print("groups: speakers (from the utterance ids; see the docstring), never split across folds")
    baseline = np.stack([corpus.x[:, corpus.names.index(BASELINE[t])] for t in TARGETS], axis=1)
    print("\n## Today's hand-tuned scores, no fitting (prosody column: hand fluency)\n")
    print("Their constants were tuned on the train split: only published-test is held out.\n")
    print("\n".join(table(corpus, baseline)))
    started = time.perf_counter()
    pred = measure(corpus)
    print(f"\n## Trained scorer, {OUTER_FOLDS}-fold cross-validated over speakers\n")
    print("\n".join(table(corpus, pred)))
    print("\n## Fitted on the train split only (300), measured on the test split\n")
    print("\n".join(table(corpus, train_to_test(corpus), corpus.split == "test")))
    print("\n## Ablation: cross-validated r, published-test / stratified\n")
    print("| features | " + " | ".join(TARGETS) + " |\n|---|" + "---|" * len(TARGETS))
    test, strat = corpus.sets == "published-test", corpus.sets == "stratified"
    ablated: dict[tuple[str, ...], Matrix] = {}
    for label, groups in ABLATION:
        p = ablated[groups] = pred if groups == ALL else measure(corpus, groups)
        figures = [
            f"{pearson(p[test, t], corpus.y[test, t]):.2f} / "
            f"{pearson(p[strat, t], corpus.y[strat, t]):.2f}"
            for t in range(len(TARGETS))
        ]
        print(f"| {label} | " + " | ".join(figures) + " |")
    print("\n## What the phones add: r(all) - r(all but phones), paired speaker bootstrap\n")
    print("\n".join(gains(corpus, pred, ablated[tuple(g for g in ALL if g != "phones")])))
    print("\n## What intonation would add: r(all + intonation) - r(all), the same\n")
    print("\n".join(gains(corpus, ablated[(*ALL, "intonation")], pred)))
    print(f"\n(fitting and measuring took {time.perf_counter() - started:.0f} s)")
    return pred


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, default=DEFAULT_SPEECH)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--refresh", action="store_true", help="extract again, cache or not")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    report(load_corpus(args.speech, args.cache, args.refresh))


if __name__ == "__main__":
    main()
