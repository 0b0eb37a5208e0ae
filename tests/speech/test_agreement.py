from __future__ import annotations

from speech.agreement import Agreement
from speech.transcript import Word


def words(*spec: tuple[str, float]) -> list[Word]:
    """Words 0.3 s long, back to back from 1 s: (text, probability) each."""
    return [
        Word(f" {text}", 1 + 0.3 * i, 1.3 + 0.3 * i, probability)
        for i, (text, probability) in enumerate(spec)
    ]


def test_two_sure_passes_commit() -> None:
    agreement = Agreement(min_probability=0.3)
    agreement.insert(words(("ask", 0.9), ("not", 0.9)))
    assert agreement.insert(words(("ask", 0.9), ("not", 0.9), ("what", 0.9))) == words(
        ("ask", 0.9), ("not", 0.9)
    )
    assert [w.key for w in agreement.tentative] == ["what"]


def test_an_unsure_word_commits_on_the_third_agreeing_pass() -> None:
    """A low-probability first word must not hold back every word after it for ever."""
    agreement = Agreement(min_probability=0.3)
    unsure = words(("ask", 0.1), ("not", 0.9))
    agreement.insert(unsure)
    assert agreement.insert(unsure) == []
    assert [w.key for w in agreement.insert(unsure)] == ["ask", "not"]


def test_a_changed_word_restarts_the_count() -> None:
    agreement = Agreement(min_probability=0.3)
    agreement.insert(words(("ask", 0.1)))
    agreement.insert(words(("ask", 0.1)))
    agreement.insert(words(("as", 0.1)))
    assert agreement.insert(words(("as", 0.1))) == []
    assert agreement.committed == []


def test_a_glimpse_is_shown_but_never_counts() -> None:
    """Glimpses come close together, over nearly the same audio: two of them agree on a
    half-heard word ("as" of "ask") as readily as on a whole one."""
    agreement = Agreement(min_probability=0.3)
    agreement.glimpse(words(("as", 0.9)))
    agreement.glimpse(words(("as", 0.9)))
    assert agreement.committed == []
    assert [w.key for w in agreement.shown] == ["as"]
    agreement.insert(words(("ask", 0.9)))
    agreement.glimpse(words(("as", 0.9), ("what", 0.9)))
    assert [w.key for w in agreement.shown] == ["as", "what"]
    assert [w.key for w in agreement.tentative] == ["ask"]
    # The next counted pass is compared with the last counted one, not with the glimpse.
    assert [w.key for w in agreement.insert(words(("ask", 0.9), ("what", 0.9)))] == ["ask"]
    assert [w.key for w in agreement.shown] == ["what"]
