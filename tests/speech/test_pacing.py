"""Interim passes stretch apart as the inference workers fill up, and only then."""

from __future__ import annotations

import pytest

from speech.pacing import HIGH, LOW, Pacing


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def busy(pacing: Pacing, clock: Clock, share: float, *, workers: int = 2) -> None:
    """Each worker spends `share` of the last three seconds on passes."""
    for worker in range(workers):
        pacing.record(clock.now - 3.0 * share - worker * 1e-3, clock.now - worker * 1e-3)


def test_an_idle_node_does_not_stretch() -> None:
    clock = Clock()
    pacing = Pacing(2, most=1.8, clock=clock)
    assert pacing.utilisation == 0.0
    assert pacing.stretch == 1.0
    busy(pacing, clock, LOW - 0.05)
    assert pacing.stretch == 1.0


def test_stretch_grows_with_utilisation_up_to_the_most() -> None:
    clock = Clock()
    stretches = []
    for share in (LOW, (LOW + HIGH) / 2, HIGH, 1.0):
        pacing = Pacing(2, most=1.8, clock=clock)
        busy(pacing, clock, share)
        assert pacing.utilisation == pytest.approx(share, abs=0.01)
        stretches.append(pacing.stretch)
    assert stretches == pytest.approx([1.0, 1.4, 1.8, 1.8], abs=0.01)


def test_only_the_last_seconds_count() -> None:
    clock = Clock()
    pacing = Pacing(1, most=2.0, clock=clock)
    pacing.record(clock.now - 2.0, clock.now)  # 2 of the last 3 s
    assert pacing.utilisation == pytest.approx(2 / 3)
    clock.now += 2.0  # half of that call is older than three seconds now
    assert pacing.utilisation == pytest.approx(1 / 3)
    clock.now += 10
    assert pacing.utilisation == 0.0
    assert pacing.stretch == 1.0


def test_a_most_of_one_never_stretches() -> None:
    clock = Clock()
    pacing = Pacing(1, most=1.0, clock=clock)
    busy(pacing, clock, 1.0, workers=1)
    assert pacing.utilisation == pytest.approx(1.0)
    assert pacing.stretch == 1.0
    with pytest.raises(ValueError, match="at least 1"):
        Pacing(1, most=0.5)
