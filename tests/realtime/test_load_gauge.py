"""Admission by measured load: a node whose interims trail their audio takes no newcomer,
and admits again once it keeps up."""

from __future__ import annotations

import uuid

import pytest

from realtime.load_gauge import MIN_SAMPLES, LagGauge
from realtime.registry import NodeFull, SessionRegistry
from realtime.session_state import State


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Live:
    """What the registry reads of a session."""

    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.learner_id = uuid.uuid4()
        self.state = State.STREAMING


def test_the_gauge_tells_busy_from_a_lone_slow_pass() -> None:
    clock = Clock()
    gauge = LagGauge(1000, clock=clock)
    for _ in range(MIN_SAMPLES - 1):
        gauge.record(3000)
    assert gauge.p95() is None and not gauge.busy  # too few passes to judge a node
    gauge.record(3000)
    assert gauge.p95() == 3000 and gauge.busy
    clock.now += 6  # the window moves on: old lags are forgotten
    for _ in range(39):
        gauge.record(300)
    gauge.record(5000)  # one slow pass in forty is not the p95
    assert gauge.p95() == 300 and not gauge.busy
    assert not LagGauge(0, clock=clock).busy  # 0: admission by load is off


def test_a_busy_node_refuses_newcomers_until_it_keeps_up() -> None:
    clock = Clock()
    gauge = LagGauge(1000, clock=clock)
    registry = SessionRegistry(max_per_user=2, busy=gauge)
    for _ in range(MIN_SAMPLES):
        gauge.record(4000)
    assert not registry.full  # busy, but with no live session it cannot be from load
    registry.add(Live())  # type: ignore[arg-type]
    assert registry.full
    with pytest.raises(NodeFull) as refused:
        registry.check_room(uuid.uuid4())
    assert refused.value.code == "node_full"
    clock.now += 6
    for _ in range(MIN_SAMPLES):
        gauge.record(200)
    assert not registry.full
    registry.check_room(uuid.uuid4())
