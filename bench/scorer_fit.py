"""The trained scorer's recipe and its honest measurement (numpy only).

Recipe: per target, a ridge regression over standardised features (`speech.scorer.linear
.standardise`, the same arithmetic the evaluator runs), with one penalty for the Whisper
evidence and timing features and another for the encoder embedding (384 columns that
would otherwise drown the few dozen others); both penalties are chosen by an inner
cross-validation over speakers of the training data alone, from a fixed grid.

Measurement: k-fold cross-validation over speakers (no speaker is in a training fold and
a held-out fold), predictions pooled out of fold, Pearson's r per label set, with a 95 %
interval from a bootstrap over the label set's speakers. Everything is seeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from speech.scorer.features import EMBEDDING_PREFIX
from speech.scorer.linear import standardise

Matrix = npt.NDArray[np.float64]
Labels = npt.NDArray[np.str_]
EVIDENCE_PENALTIES = (3.0, 30.0, 300.0)
EMBEDDING_PENALTIES = (300.0, 1000.0, 3000.0, 10000.0)
OUTER_FOLDS = 10
INNER_FOLDS = 5
SEED = 762


@dataclass(frozen=True)
class Fitted:
    """A ridge fit of every target at once: raw = intercept + standardise(x) @ weights."""

    mean: Matrix
    std: Matrix
    intercept: Matrix  # [targets]
    weights: Matrix  # [features, targets]
    penalties: list[tuple[float, float]]  # per target (evidence, embedding)

    def predict(self, x: Matrix) -> Matrix:
        out: Matrix = standardise(x, self.mean, self.std) @ self.weights + self.intercept
        return out


def is_embedding(names: Sequence[str]) -> npt.NDArray[np.bool_]:
    return np.array([n.startswith(EMBEDDING_PREFIX) for n in names])


def _moments(x: Matrix) -> tuple[Matrix, Matrix]:
    """Per column mean and spread over the rows that measured it (NaN: not measured)."""
    std = np.nanstd(x, axis=0)
    return np.nanmean(x, axis=0), np.where(std > 1e-9, std, 1.0)


def _solve(z: Matrix, y: Matrix, penalty: Matrix) -> tuple[Matrix, Matrix]:
    """Ridge on standardised `z` (centred by construction on its own rows)."""
    zc = z - z.mean(axis=0)
    w = np.linalg.solve(zc.T @ zc + np.diag(penalty), zc.T @ (y - y.mean(axis=0)))
    return y.mean(axis=0) - z.mean(axis=0) @ w, w


def fit_fixed(
    x: Matrix, y: Matrix, embedding: npt.NDArray[np.bool_], pen: list[tuple[float, float]]
) -> Fitted:
    mean, std = _moments(x)
    z = standardise(x, mean, std)
    intercept, weights = np.zeros(y.shape[1]), np.zeros((x.shape[1], y.shape[1]))
    for t, (a, b) in enumerate(pen):
        i, w = _solve(z, y[:, [t]], np.where(embedding, b, a))
        intercept[t], weights[:, t] = i[0], w[:, 0]
    return Fitted(mean, std, intercept, weights, pen)


def grouped_folds(groups: Labels, strata: Labels, k: int, seed: int) -> npt.NDArray[np.int_]:
    """Fold of each row: whole groups (speakers) per fold, each stratum's groups dealt
    round-robin in a seeded order, so every fold gets its share of each stratum."""
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    for stratum in sorted(set(strata.tolist())):
        mine = sorted(set(groups[strata == stratum].tolist()) - set(fold_of))
        for g in rng.permutation(mine):
            fold_of[str(g)] = len(fold_of) % k  # the deal goes on across strata
    return np.array([fold_of[g] for g in groups.tolist()])


def pearson(x: Matrix, y: Matrix) -> float:
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def fit_selected(
    x: Matrix, y: Matrix, names: Sequence[str], groups: Labels, strata: Labels, seed: int
) -> Fitted:
    """Choose each target's penalties by inner cross-validation over speakers, then fit
    on all of `x`: the recipe, applied to whatever data it is given."""
    embedding = is_embedding(names)
    grid = [(a, b) for a in EVIDENCE_PENALTIES for b in EMBEDDING_PENALTIES]
    if not embedding.any():
        grid = [(a, 0.0) for a in EVIDENCE_PENALTIES]
    folds = grouped_folds(groups, strata, INNER_FOLDS, seed)
    oof = np.zeros((len(grid), *y.shape))
    for k in range(INNER_FOLDS):
        test = folds == k
        mean, std = _moments(x[~test])
        z_train, z_test = standardise(x[~test], mean, std), standardise(x[test], mean, std)
        for g, (a, b) in enumerate(grid):
            intercept, w = _solve(z_train, y[~test], np.where(embedding, b, a))
            oof[g][test] = z_test @ w + intercept
    best = [
        grid[int(np.nanargmax([pearson(oof[g][:, t], y[:, t]) for g in range(len(grid))]))]
        for t in range(y.shape[1])
    ]
    return fit_fixed(x, y, embedding, best)


def cross_validated(
    x: Matrix, y: Matrix, names: Sequence[str], groups: Labels, strata: Labels
) -> tuple[Matrix, list[list[tuple[float, float]]]]:
    """Out-of-fold predictions of the recipe for every row, and each fold's penalties."""
    folds = grouped_folds(groups, strata, OUTER_FOLDS, SEED)
    pred = np.zeros_like(y)
    chosen = []
    for k in range(OUTER_FOLDS):
        test = folds == k
        fitted = fit_selected(x[~test], y[~test], names, groups[~test], strata[~test], SEED + k)
        pred[test] = fitted.predict(x[test])
        chosen.append(fitted.penalties)
    return pred, chosen


def bootstrap_interval(
    x: Matrix, y: Matrix, clusters: Labels, *, n: int = 2000, seed: int = SEED
) -> tuple[float, float]:
    """95 % percentile interval of Pearson's r, resampling whole clusters (speakers)."""
    rng = np.random.default_rng(seed)
    ids = sorted(set(clusters.tolist()))
    rows = [np.flatnonzero(clusters == c) for c in ids]
    rs = []
    for _ in range(n):
        pick = np.concatenate([rows[i] for i in rng.integers(0, len(ids), len(ids))])
        rs.append(pearson(x[pick], y[pick]))
    lo, hi = np.nanpercentile(rs, [2.5, 97.5])
    return float(lo), float(hi)


def bootstrap_gain(
    better: Matrix, worse: Matrix, y: Matrix, clusters: Labels, *, n: int = 2000
) -> tuple[float, float]:
    """95 % interval of r(better) - r(worse) over the same resampled speakers (paired)."""
    rng = np.random.default_rng(SEED)
    ids = sorted(set(clusters.tolist()))
    rows = [np.flatnonzero(clusters == c) for c in ids]
    gains = []
    for _ in range(n):
        pick = np.concatenate([rows[i] for i in rng.integers(0, len(ids), len(ids))])
        gains.append(pearson(better[pick], y[pick]) - pearson(worse[pick], y[pick]))
    lo, hi = np.nanpercentile(gains, [2.5, 97.5])
    return float(lo), float(hi)
