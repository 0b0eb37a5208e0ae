"""The trained scorer: a ridge regression per expert score, from named features to 0-100.

The artefact (`scorer.json` beside this file) is written by bench/train_scorer.py and
holds, with its version and a summary of the data it was trained on, for every feature
its training mean and spread, and for every target (accuracy, fluency, prosody, total)
an intercept, weights over the standardised features, and a calibration: experts score
0-10, and ridge predictions spread less than the scores they predict (they shrink towards
the mean), so each prediction is stretched to the experts' own spread and put on 0-100.

A standardised feature is held within `Z_LIMIT` of the training mean: a recording unlike
any in training (another microphone, a native speaker) must not push a linear model
into arbitrary scores. A feature that could not be measured is NaN (the phones of a
reading that has none, `speech.scorer.features`) and counts as the training mean (z = 0).
Training applies the same arithmetic (`standardise`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from speech.scorer.features import FEATURES_VERSION

TARGETS = ("accuracy", "fluency", "prosody", "total")
DEFAULT_ARTEFACT = Path(__file__).with_name("scorer.json")
Z_LIMIT = 5.0

Vector = npt.NDArray[np.float64]


class ScorerError(ValueError):
    """An artefact that cannot be used: malformed, or for other features or model."""


def standardise(x: Vector, mean: Vector, std: Vector) -> Vector:
    """(x - mean) / std, each held within +-Z_LIMIT, NaN (not measured) as 0; works on a
    vector or a matrix."""
    z: Vector = np.nan_to_num(np.clip((x - mean) / std, -Z_LIMIT, Z_LIMIT), nan=0.0)
    return z


@dataclass(frozen=True, slots=True)
class Head:
    """One target: raw = intercept + weights . z (expert units, 0-10), then
    score = offset + scale * raw on 0-100, clamped."""

    intercept: float
    weights: Vector
    scale: float
    offset: float

    def raw(self, z: Vector) -> float:
        return float(self.intercept + self.weights @ z)

    def score(self, z: Vector) -> float:
        return float(min(100.0, max(0.0, self.offset + self.scale * self.raw(z))))


@dataclass(frozen=True, slots=True)
class TrainedScorer:
    version: str
    model: str  # the speech model whose evidence it was trained on
    features: tuple[str, ...]
    mean: Vector
    std: Vector
    heads: Mapping[str, Head]
    training: Mapping[str, Any]  # what it was trained on, and its cross-validated figures

    def vector(self, features: Mapping[str, float]) -> Vector:
        missing = [name for name in self.features if name not in features]
        if missing:
            raise ScorerError(f"features missing for scorer {self.version}: {missing[:5]}")
        return np.array([features[name] for name in self.features], dtype=np.float64)

    def predict(self, features: Mapping[str, float]) -> dict[str, float]:
        """0-100 per target, unrounded."""
        z = standardise(self.vector(features), self.mean, self.std)
        return {name: head.score(z) for name, head in self.heads.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "features_version": FEATURES_VERSION,
            "model": self.model,
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "std": [round(float(v), 6) for v in self.std],
            "heads": {
                name: {
                    "intercept": round(h.intercept, 6),
                    "weights": [round(float(w), 6) for w in h.weights],
                    "scale": round(h.scale, 6),
                    "offset": round(h.offset, 6),
                }
                for name, h in self.heads.items()
            },
            "training": dict(self.training),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainedScorer:
        try:
            if data["features_version"] != FEATURES_VERSION:
                raise ScorerError(
                    f"scorer {data['version']} was trained on features version "
                    f"{data['features_version']}, the evaluator computes {FEATURES_VERSION}"
                )
            names = tuple(str(n) for n in data["features"])
            heads = {
                str(name): Head(
                    float(h["intercept"]),
                    _vector(h["weights"], len(names)),
                    float(h["scale"]),
                    float(h["offset"]),
                )
                for name, h in data["heads"].items()
            }
            std = _vector(data["std"], len(names))
            if set(heads) != set(TARGETS) or not np.all(std > 0):
                raise ScorerError(f"scorer {data['version']}: want heads {TARGETS}, spreads > 0")
            return cls(
                version=str(data["version"]),
                model=str(data["model"]),
                features=names,
                mean=_vector(data["mean"], len(names)),
                std=std,
                heads=heads,
                training=dict(data.get("training", {})),
            )
        except (KeyError, TypeError) as exc:
            raise ScorerError(f"malformed scorer artefact: {exc!r}") from exc

    @classmethod
    def load(cls, path: Path = DEFAULT_ARTEFACT) -> TrainedScorer:
        return cls.from_dict(json.loads(path.read_text()))


def _vector(values: Any, length: int) -> Vector:
    out = np.asarray(values, dtype=np.float64)
    if out.shape != (length,) or not np.all(np.isfinite(out)):
        raise ScorerError(f"want {length} finite numbers, got shape {out.shape}")
    return out
