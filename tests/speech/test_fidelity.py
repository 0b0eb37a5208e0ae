"""The final never loses speech: on every native clip, on sessions of several clips joined
by silences in four orders, and on the regression recordings, Parley's final makes at most
`bench.fidelity.MARGIN` more word errors than plain faster-whisper `transcribe()` of the same
audio with the same model and beam size (bench/fidelity.py prints the table)."""

from __future__ import annotations

import asyncio

import pytest

from bench.fidelity import DROPPED_PHRASE_TEXT, Result, cases, run
from speech.settings import SpeechSettings
from speech.text import normalize_text

pytestmark = pytest.mark.slow

# Known: in this order a softly spoken last word before a pause ("...to do for them.") falls
# on the wrong side of the segment cut and is dropped, and greedy decoding of a short
# segment hears "ill-disposed" as "old-sposed", where transcribe()'s 30 s windows with the
# text before as prompt hear both. Strict: the day it passes, this mark must go.
# Cases known to miss the margin, each a strict xfail with its cause. None now: "session
# reversed" (a soft "them" lost at a segment cut) is within it since a misheard hyphenated
# compound counts as the one word it is (bench/fidelity.py).
KNOWN: dict[str, str] = {}


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    return {r.case: r for r in asyncio.run(run(SpeechSettings()))}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c.name, marks=pytest.mark.xfail(reason=KNOWN[c.name], strict=True))
        if c.name in KNOWN
        else c.name
        for c in cases()
    ],
)
def test_the_final_is_as_faithful_as_plain_transcribe(
    results: dict[str, Result], case: str
) -> None:
    result = results[case]
    assert result.parley_errors <= result.allowed, (
        f"{case}: {result.parley_errors} word errors against transcribe()'s "
        f"{result.plain_errors}: {result.parley_text}"
    )


def test_the_dropped_phrase_is_heard_whole(results: dict[str, Result]) -> None:
    heard = normalize_text(results["dropped-phrase.wav"].parley_text)
    phrase = normalize_text("And so my fellow Americans ask not what your country can do for you")
    assert " ".join(phrase) in " ".join(heard)
    assert len(heard) >= len(normalize_text(DROPPED_PHRASE_TEXT)) - 2
