"""Getting a reading's phones: the same from the helper process as from one process (whether
the helper takes the free loop, is busy, or dies mid-reading), and phones for readings the
forced search once gave up on."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.decoding import decode
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.phones.helper import FreeLoopHelper
from speech.phones.sphinx import DecoderOptions, cepstral_mean
from speech.transcript import FinalTranscript, Word, join_words
from tests.speech.conftest import JFK_TEXT, NATIVE, ocean_wav

WORDS = JFK_TEXT.split()
LONG_WORDS = (
    "internationalization responsibilities extraordinarily unconstitutional "
    "misunderstanding telecommunications characteristically interdisciplinary"
).split()


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


def test_a_reading_at_the_recordings_very_edge_still_gets_its_phones(
    ocean_scores: dict[str, Any],
) -> None:
    # This child's reading fills the recording to its edges: with no silence around it
    # the forced search found no path through every word, and no word got phones.
    utterance = "001140108"
    audio = load_wav_16k(ocean_wav(utterance))
    words = ocean_scores[utterance]["text"].split()
    phones = PhoneAligner().words(audio, words)
    assert all(phones), [len(p) for p in phones]
    seconds = len(audio) / SAMPLE_RATE
    times = [(p.start, p.end) for word in phones for p in word]
    assert all(0.0 <= start <= end <= seconds for start, end in times)
    assert [start for start, _ in times] == sorted(start for start, _ in times)


def test_extra_heard_words_that_cannot_fit_do_not_cost_the_reading_its_phones(
    model: SpeechModel, manifest: dict[str, str]
) -> None:
    audio = load_wav_16k(NATIVE / "goforward.wav")
    heard = decode(model, audio).words
    # Whisper "heard" eight long words more than were said: their phones cannot all fit
    # in 2.8 s beside the reading's, so the words as heard have no alignment at all.
    end = heard[-1].end
    extra = [Word(f" {w}", end, end, 0.1) for w in LONG_WORDS]
    words = (*heard, *extra)
    said = manifest["goforward.wav"].split()
    assert not any(PhoneAligner().words(audio, [*said, *LONG_WORDS]))
    transcript = FinalTranscript(join_words(words), words, model.name, len(audio) // 16)
    evaluation = LocalEvaluator(model, phones=PhoneAligner()).read_aloud(
        audio, transcript, manifest["goforward.wav"]
    )
    read = [w for w in evaluation.words if w.expected is not None]
    assert read and all(w.phones for w in read), [(w.expected, len(w.phones)) for w in read]
    assert [w.error_type for w in evaluation.words if w.expected is None] == ["insertion"] * 8
