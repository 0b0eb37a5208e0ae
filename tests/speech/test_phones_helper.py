"""The phone helper process: the same phones as one process, whether the helper takes the
free loop, is busy, or dies mid-reading."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from speech.audio import Samples
from speech.phones import PhoneAligner
from speech.phones.helper import FreeLoopHelper
from speech.phones.sphinx import DecoderOptions, cepstral_mean
from tests.speech.conftest import JFK_TEXT

WORDS = JFK_TEXT.split()


@pytest.fixture(scope="module")
def alone(jfk: Samples) -> list[object]:
    return list(PhoneAligner().words(jfk, WORDS))


@pytest.fixture
def helped() -> Iterator[PhoneAligner]:
    aligner = PhoneAligner(helper_process=True)
    aligner.warm_up()
    yield aligner
    aligner.close()


def _helper(aligner: PhoneAligner) -> FreeLoopHelper:
    helper = aligner._helper
    assert helper is not None
    return helper


def test_the_helper_gives_the_phones_one_process_gives(
    helped: PhoneAligner, jfk: Samples, alone: list[object]
) -> None:
    before = _helper(helped).passes
    assert helped.words(jfk, WORDS) == alone
    assert helped.words(jfk, WORDS) == alone  # and again: nothing carried over
    assert _helper(helped).passes == before + 2
    assert any(alone), "jfk.wav's words get phones"


def test_a_busy_helper_leaves_the_reading_to_the_caller(
    helped: PhoneAligner, jfk: Samples, alone: list[object]
) -> None:
    helper = _helper(helped)
    long = np.tile(jfk, 3)  # keeps the helper busy while the reading is aligned
    pcm = (np.clip(long, -1, 1) * 32767).astype("<i2").tobytes()
    busy = helper.free_loop(DecoderOptions(1e-80, True, 2), pcm, cepstral_mean(pcm))
    assert busy is not None
    passes = helper.passes
    assert helped.words(jfk, WORDS) == alone
    assert helper.passes == passes  # done here, not queued behind the other
    busy.result()


def test_a_helper_that_dies_mid_reading_costs_nothing_but_time(
    helped: PhoneAligner, jfk: Samples, alone: list[object]
) -> None:
    helper = _helper(helped)
    pool = helper._pool
    assert pool is not None
    long = np.tile(jfk, 3)
    pcm = (np.clip(long, -1, 1) * 32767).astype("<i2").tobytes()
    pending = helper.free_loop(DecoderOptions(1e-80, True, 2), pcm, cepstral_mean(pcm))
    assert pending is not None
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    free, frames = pending.result()  # decoded here instead
    assert frames > 0 and free
    assert helped.words(jfk, WORDS) == alone  # and the next reading still gets its phones
