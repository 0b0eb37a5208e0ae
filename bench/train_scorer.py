"""Train the scorer the evaluator ships: measure the recipe held out, then fit it on all.

    .venv/bin/python bench/train_scorer.py [--refresh] [--out speech/scorer/scorer.json]

First every table of bench/validity.py (the recipe cross-validated over speakers: what the
shipped scorer is expected to do on speakers it never heard), then the same recipe fitted
on all 507 speechocean762 utterances, calibrated, and written as the versioned artefact
`LocalEvaluator` loads at start-up. The figures that go into the artefact's training
summary are the held-out ones; none is measured on the data the weights were fitted to.

Calibration: ridge predictions spread less than the scores they predict, so each head is
stretched to put its out-of-fold predictions at the experts' mean and spread (0-10), times
ten. The version is a hash of the artefact's content: a retrain that changes any weight
changes the version every evaluation is marked with.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from bench.scorer_fit import OUTER_FOLDS, SEED, Matrix, fit_selected, pearson
from bench.validity import (
    ALL,
    DEFAULT_CACHE,
    DEFAULT_SPEECH,
    LABEL_SETS,
    Corpus,
    columns,
    load_corpus,
    report,
)
from speech.scorer.features import FEATURES_VERSION
from speech.scorer.linear import DEFAULT_ARTEFACT, TARGETS, Head, TrainedScorer


def calibration(oof: Matrix, truth: Matrix) -> tuple[float, float]:
    """(scale, offset) taking raw predictions (0-10) to 0-100 with the experts' spread."""
    stretch = float(truth.std() / oof.std())
    return 10.0 * stretch, 10.0 * float(truth.mean() - stretch * oof.mean())


def summary(corpus: Corpus, oof: Matrix, penalties: list[tuple[float, float]]) -> dict[str, Any]:
    held_out: dict[str, dict[str, float]] = {}
    for name in LABEL_SETS:
        m = corpus.sets == name
        held_out[name] = {
            t: round(pearson(oof[m, i], corpus.y[m, i]), 3) for i, t in enumerate(TARGETS)
        }
    return {
        "data": "speechocean762 via shared/speech (stratified pre-release, published train+test)",
        "utterances": {name: int((corpus.sets == name).sum()) for name in LABEL_SETS},
        "speakers": len(set(corpus.speakers.tolist())),
        "evaluator_code": corpus.key,
        "recipe": "ridge per target, penalties (evidence, embedding) by inner CV over speakers",
        "penalties": {t: list(p) for t, p in zip(TARGETS, penalties, strict=True)},
        "cross_validated_pearson": held_out,
        "cv": f"{OUTER_FOLDS}-fold over speakers, seed {SEED}",
    }


def train(corpus: Corpus, oof: Matrix) -> TrainedScorer:
    # The groups `report` cross-validated (`ALL`), not every feature extracted: the cache
    # also holds groups measured and not shipped (the ablation's "all + intonation").
    cols = columns(corpus, ALL)
    names = [corpus.names[i] for i in cols]
    fitted = fit_selected(corpus.x[:, cols], corpus.y, names, corpus.speakers, corpus.sets, SEED)
    heads = {}
    for i, target in enumerate(TARGETS):
        scale, offset = calibration(oof[:, i], corpus.y[:, i])
        heads[target] = Head(float(fitted.intercept[i]), fitted.weights[:, i], scale, offset)
    draft = TrainedScorer(
        version="",
        model=corpus.model,
        features=tuple(names),
        mean=fitted.mean,
        std=fitted.std,
        heads=heads,
        training=summary(corpus, oof, fitted.penalties),
    )
    content = json.dumps(draft.to_dict(), sort_keys=True).encode()
    version = f"ridge{FEATURES_VERSION}-{hashlib.sha256(content).hexdigest()[:8]}"
    # Round-tripped, so the scorer returned is exactly the one the evaluator will load.
    return TrainedScorer.from_dict({**draft.to_dict(), "version": version})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, default=DEFAULT_SPEECH)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--refresh", action="store_true", help="extract features again")
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTEFACT)
    args = parser.parse_args()
    corpus = load_corpus(args.speech, args.cache, args.refresh)
    oof = report(corpus)
    scorer = train(corpus, oof)
    args.out.write_text(json.dumps(scorer.to_dict(), indent=1) + "\n")
    spread = {t: round(float(np.std(corpus.y[:, i])), 2) for i, t in enumerate(TARGETS)}
    print(f"\nwrote {args.out} ({args.out.stat().st_size // 1024} KiB): scorer {scorer.version}")
    print(f"trained on {len(corpus.ids)} utterances; experts' spread (0-10) {spread}")


if __name__ == "__main__":
    main()
