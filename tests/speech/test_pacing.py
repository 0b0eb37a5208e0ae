"""Interim passes stretch apart as the inference workers fill up, and only then."""

from __future__ import annotations

import threading

import pytest

from speech.pacing import HIGH, LOW, Utilisation, stretch_for


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_utilisation_is_the_share_of_all_workers_time_in_calls() -> None:
    clock = Clock()
    busy = Utilisation(2, clock=clock)
    assert busy.value == 0.0
    busy.record(clock.now - 3.0, clock.now)  # one worker all the time
    busy.record(clock.now - 1.5, clock.now)  # the other half of it
    assert busy.value == pytest.approx(0.75)


def test_only_the_last_seconds_count() -> None:
    clock = Clock()
    busy = Utilisation(1, clock=clock)
    busy.record(clock.now - 2.0, clock.now)  # 2 of the last 3 s
    assert busy.value == pytest.approx(2 / 3)
    clock.now += 2.0  # half of that call is older than three seconds now
    assert busy.value == pytest.approx(1 / 3)
    clock.now += 10
    assert busy.value == 0.0


def test_workers_record_while_the_loop_reads() -> None:
    busy = Utilisation(2, window_s=60.0)

    def work() -> None:
        for _ in range(5_000):
            now = busy.now()
            busy.record(now, now)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        assert 0.0 <= busy.value <= 1.0
    for thread in threads:
        thread.join()


def test_stretch_grows_with_utilisation_up_to_the_most() -> None:
    shares = (0.0, LOW, (LOW + HIGH) / 2, HIGH, 1.0)
    assert [stretch_for(u, 1.8) for u in shares] == pytest.approx([1.0, 1.0, 1.4, 1.8, 1.8])
    assert {stretch_for(u, 1.0) for u in shares} == {1.0}


def test_old_calls_are_forgotten_without_a_reader() -> None:
    clock = Clock()
    busy = Utilisation(1, clock=clock)
    for _ in range(10_000):
        clock.now += 1.0
        busy.record(clock.now - 0.5, clock.now)
    assert len(busy) <= 4


def test_a_new_call_counts_at_once_and_aging_calls_soon_after() -> None:
    clock = Clock()
    busy = Utilisation(1, clock=clock)
    busy.record(clock.now - 1.5, clock.now)
    assert busy.value == pytest.approx(0.5)
    busy.record(clock.now - 0.3, clock.now)  # read again at the same instant
    assert busy.value == pytest.approx(0.6)
    clock.now += 1.55  # 0.05 s of the first call is older than three seconds now
    assert busy.value == pytest.approx(1.75 / 3)
