"""A score's mean and its least-squares trend, from sums the database adds up.

For the points (x, y) of one score, x being days from the window's start and y the score,
the database returns n, Σx, Σy, Σx² and Σxy (sums of rows where the score is not null).
Such sums add across groups, so per-learner sums add up to a course's; the slope of the
least-squares line is (nΣxy - ΣxΣy) / (nΣx² - (Σx)²).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func
from sqlalchemy.sql.elements import ColumnElement

SCORES = ("accuracy", "fluency", "completeness", "overall")
# Below this spread of x (days², about one second's), the points share one instant: no line.
_MIN_VARIANCE = (1 / 86400) ** 2


def fit_columns(
    days: ColumnElement[float], scores: Mapping[str, ColumnElement[float | None]]
) -> list[ColumnElement[Any]]:
    """The five sums of each score against `days`, labelled `<score>_n`, `<score>_sx`, ..."""
    columns: list[ColumnElement[Any]] = []
    for name, y in scores.items():
        x = case((y.is_not(None), days))
        columns += [
            func.count(y).label(f"{name}_n"),
            func.sum(x).label(f"{name}_sx"),
            func.sum(y).label(f"{name}_sy"),
            func.sum(x * x).label(f"{name}_sxx"),
            func.sum(x * y).label(f"{name}_sxy"),
        ]
    return columns


@dataclass(frozen=True, slots=True)
class Fit:
    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    sxy: float = 0.0

    @classmethod
    def of(cls, row: Any, name: str) -> Fit:
        sums = (getattr(row, f"{name}_{s}") for s in ("sx", "sy", "sxx", "sxy"))
        return cls(getattr(row, f"{name}_n"), *(float(v or 0) for v in sums))

    def __add__(self, other: Fit) -> Fit:
        return Fit(
            self.n + other.n,
            self.sx + other.sx,
            self.sy + other.sy,
            self.sxx + other.sxx,
            self.sxy + other.sxy,
        )

    @property
    def mean(self) -> float | None:
        return self.sy / self.n if self.n else None

    @property
    def slope(self) -> float | None:
        """Score points per day; None below two points at distinct times."""
        if self.n < 2:
            return None
        variance = self.sxx / self.n - (self.sx / self.n) ** 2
        if variance < _MIN_VARIANCE:
            return None
        return (self.sxy / self.n - (self.sx / self.n) * (self.sy / self.n)) / variance


@dataclass(frozen=True, slots=True)
class Totals:
    sessions: int = 0
    completed: int = 0
    audio_ms: int = 0
    scored: int = 0  # completed sessions with a current evaluation
    fits: tuple[Fit, ...] = tuple(Fit() for _ in SCORES)

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.sessions + other.sessions,
            self.completed + other.completed,
            self.audio_ms + other.audio_ms,
            self.scored + other.scored,
            tuple(a + b for a, b in zip(self.fits, other.fits, strict=True)),
        )

    @property
    def minutes(self) -> float:
        return self.audio_ms / 60000
