from __future__ import annotations

import pytest

from speech.agreement import Agreement
from speech.alignment import align
from speech.decoding import drop_repeated_tail
from speech.fluency import count_repetitions, measure_fluency
from speech.text import normalize_text, number_words
from speech.transcript import Word


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("Go forward 10 meters!", "go forward ten meters"),
        ("I don't know", "i do not know"),
        ("We can't; they cannot.", "we can not they can not"),
        ("In 1961, Mr. Smith", "in nineteen sixty one mister smith"),
        ("the 3rd of 25", "the third of twenty five"),
        ("WE CALL IT BEAR", "we call it bear"),
        ("well-known", "well known"),
    ],
)
def test_normalisation(written: str, normal: str) -> None:
    assert normalize_text(written) == normal.split()


def test_number_words() -> None:
    assert number_words(0) == "zero"
    assert number_words(115) == "one hundred fifteen"
    assert number_words(2_000_021) == "two million twenty one"


def test_alignment_prefers_near_misses_to_gaps() -> None:
    pairs = align("we call it bear".split(), "we call it bare".split())
    assert [p.op for p in pairs] == ["match", "match", "match", "substitute"]
    pairs = align("ask not what".split(), "ask what".split())
    assert [p.op for p in pairs] == ["match", "omit", "match"]


def words(text: str, step: float = 0.3) -> list[Word]:
    return [Word(" " + w, i * step, i * step + 0.25, 0.9) for i, w in enumerate(text.split())]


def test_long_readings_align_word_for_word() -> None:
    """A two-minute reading (300 words) with a skipped phrase, a swapped word and an
    extra one: every other word pairs with itself."""
    reference = [f"w{i % 37}x{i // 37}" for i in range(300)]
    heard = reference[:100] + reference[104:200] + ["zz"] + reference[200:250]
    heard += ["w28x9", *reference[251:]]  # for reference[250], "w28x6"
    pairs = align(reference, heard)
    ops = [p.op for p in pairs]
    assert ops.count("omit") == 4 and ops.count("insert") == 1
    assert ops.count("substitute") == 1 and ops.count("match") == 295
    matched = [(p.ref, p.heard) for p in pairs if p.op == "match"]
    assert all(r is not None and h is not None and reference[r] == heard[h] for r, h in matched)
    assert [p.ref for p in pairs if p.op == "omit"] == [100, 101, 102, 103]


def test_agreement_commits_what_two_passes_share() -> None:
    agreement = Agreement()
    assert agreement.insert(words("and so my")) == []
    assert [w.key for w in agreement.insert(words("and so my fellow"))] == ["and", "so", "my"]
    assert [w.key for w in agreement.tentative] == ["fellow"]
    # A pass that re-hears committed words does not commit them twice.
    agreement.insert(words("and so my fellow americans"))
    assert [w.key for w in agreement.committed] == ["and", "so", "my", "fellow"]


def test_unsure_words_stay_tentative() -> None:
    agreement = Agreement(min_probability=0.5)
    unsure = [Word(" hmm", 0.0, 0.2, 0.1)]
    agreement.insert(unsure)
    assert agreement.insert(unsure) == []


def test_decoding_loop_is_cut() -> None:
    looped = words("ask not what ask not what ask not what")
    assert [w.key for w in drop_repeated_tail(looped)] == ["ask", "not", "what"]
    real = words("he said that that was fine")
    assert drop_repeated_tail(real) == real


def test_fluency_measures() -> None:
    heard = [
        Word(" I", 0.0, 0.2, 0.9),
        Word(" um", 0.3, 0.5, 0.9),
        Word(" I", 1.5, 1.7, 0.9),
        Word(" went", 1.8, 2.0, 0.9),
        Word(" home", 2.1, 2.4, 0.9),
    ]
    measures = measure_fluency(heard)
    assert measures.hesitations == 1
    assert measures.pause_count == 1 and measures.pause_total_s == pytest.approx(1.0)
    assert measures.repetitions == 1
    assert measures.word_count == 4
    assert count_repetitions(["i", "was", "i", "was", "there"]) == 1
