"""Phone-level results of a reading: real recordings, the real Whisper model and
pocketsphinx's en-US model, through the local evaluator."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from speech.audio import Samples
from speech.decoding import decode
from speech.evaluation import Evaluation, PhoneResult, WordResult
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.phones.arpabet import PHONES
from speech.phones.lexicon import load as load_lexicon
from speech.phones.sphinx import Decoders
from speech.transcript import FinalTranscript, join_words
from tests.speech.conftest import JFK_TEXT

# Whisper's word times are its own estimate, pocketsphinx's phone times another: they
# agree to within this much on jfk.wav.
_SLACK_S = 0.3


@pytest.fixture(scope="module")
def evaluator(model: SpeechModel) -> LocalEvaluator:
    return LocalEvaluator(model, phones=PhoneAligner())


def transcribe(model: SpeechModel, audio: Samples) -> FinalTranscript:
    words = decode(model, audio).words
    return FinalTranscript(join_words(words), words, model.name, len(audio) // 16)


@pytest.fixture(scope="module")
def jfk_heard(model: SpeechModel, jfk: Samples) -> FinalTranscript:
    return transcribe(model, jfk)


@pytest.fixture(scope="module")
def correct(evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript) -> Evaluation:
    return evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT)


def word(evaluation: Evaluation, expected: str, nth: int = 0) -> WordResult:
    found = [w for w in evaluation.words if (w.expected or "").strip(",.") == expected]
    return found[nth]


def test_a_correct_reading_gets_the_phones_of_every_word(correct: Evaluation) -> None:
    lexicon = load_lexicon()
    for w in correct.words:
        assert w.expected is not None and w.start is not None and w.end is not None
        said = [p.phone for p in w.phones]
        variants = [[ph.rstrip("012") for ph in v] for v in lexicon.pronunciations(w.expected)]
        assert said in variants, (w.expected, said)
        assert all(p.phone in PHONES and p.ipa for p in w.phones)
        assert w.phones[0].start >= w.start - _SLACK_S and w.phones[-1].end <= w.end + _SLACK_S
        for before, after in zip(w.phones, w.phones[1:], strict=False):
            assert before.start < before.end <= after.start < after.end
    phones = [p for w in correct.words for p in w.phones]
    assert all(0 <= p.accuracy <= 100 for p in phones)
    assert np.mean([p.accuracy for p in phones]) >= 70
    # Most phones agree with what the free phone loop heard there, or come close.
    assert np.median([p.accuracy for p in phones]) >= 80
    # "ask" after the long pause: its phones begin where the word is heard again.
    ask = word(correct, "ask")
    assert ask.phones[0].start > 3.0 and ask.phones[0].heard_as == "AE"


@pytest.mark.parametrize(
    ("said", "written", "phone"),
    [("my", "by", 0), ("fellow", "yellow", 0), ("not", "nod", 2)],
)
def test_a_word_read_as_another_has_its_wrong_phone_scored_lowest(
    evaluator: LocalEvaluator,
    jfk: Samples,
    jfk_heard: FinalTranscript,
    correct: Evaluation,
    said: str,
    written: str,
    phone: int,
) -> None:
    """The reference asks for `written`; the speaker said `said`, which differs in one
    phone: that phone is the one marked down."""
    reference = JFK_TEXT.replace(f" {said} ", f" {written} ", 1)
    result = evaluator.read_aloud(jfk, jfk_heard, reference)
    wrong = word(result, written)
    assert wrong.error_type == "mispronunciation" and wrong.heard == said
    others = [p.accuracy for k, p in enumerate(wrong.phones) if k != phone]
    assert wrong.phones[phone].accuracy < min(others)
    right = word(correct, said).phones[phone]
    assert wrong.phones[phone].accuracy <= right.accuracy - 25
    assert wrong.phones[phone].heard_as != wrong.phones[phone].phone


def test_by_for_my_is_heard_as_m(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    result = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT.replace(" my ", " by ", 1))
    b, ay = word(result, "by").phones
    assert (b.phone, b.ipa, b.heard_as) == ("B", "b", "M")
    assert (ay.phone, ay.ipa) == ("AY", "a\u026a") and ay.accuracy >= 80


def test_a_reading_gets_the_same_phones_whatever_was_evaluated_before(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript, correct: Evaluation
) -> None:
    # A resumed session's final, made on another node after other readings, must equal the
    # one an undisturbed session gets: nothing may carry over from one reading to the next.
    other = jfk[::-1].copy()  # the same sounds backwards: other cepstra, other paths
    evaluator.read_aloud(other, jfk_heard, JFK_TEXT)  # as if heard: its phones are aligned
    again = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT)
    assert again.to_dict() == correct.to_dict()


def test_a_word_without_a_pronunciation_gets_no_phones_and_others_keep_theirs(
    evaluator: LocalEvaluator, jfk: Samples, jfk_heard: FinalTranscript, correct: Evaluation
) -> None:
    reference = JFK_TEXT.replace("your country can do for you", "your kuntree can do for you")
    assert load_lexicon().pronunciations("kuntree") == ()  # nothing guessed from spelling
    result = evaluator.read_aloud(jfk, jfk_heard, reference)
    assert word(result, "kuntree").phones == ()
    assert sum(1 for w in result.words if w.phones) == len(result.words) - 1
    # Its audio is not stretched over its neighbours: they sit where they did.
    for neighbour in ("your", "can"):
        got, was = word(result, neighbour).phones, word(correct, neighbour).phones
        assert [p.phone for p in got] == [p.phone for p in was]
        assert abs(got[0].start - was[0].start) <= 0.05
        assert abs(got[-1].end - was[-1].end) <= 0.05


def test_silence_gives_no_phones_and_no_error(
    evaluator: LocalEvaluator, model: SpeechModel
) -> None:
    silence = np.zeros(2 * 16000, dtype=np.float32)
    result = evaluator.read_aloud(silence, transcribe(model, silence), JFK_TEXT)
    assert all(w.phones == () for w in result.words)
    assert result.to_dict()["words"][0]["phones"] == []
    # The aligner alone, given words the audio cannot hold, finds no path.
    for seconds in (0.05, 0.3, 2.0):
        audio = np.zeros(int(seconds * 16000), dtype=np.float32)
        assert PhoneAligner().words(audio, JFK_TEXT.split()) == [()] * 22


@pytest.mark.parametrize(
    ("owner", "method", "logger", "message"),
    [
        (Decoders, "decode", "speech.phones.aligner", "phone alignment failed"),
        (PhoneAligner, "reading", "speech.evaluator", "phones of a reading failed"),
    ],
)
def test_an_alignment_failure_leaves_the_evaluation_whole(
    model: SpeechModel,
    jfk: Samples,
    jfk_heard: FinalTranscript,
    correct: Evaluation,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    owner: type,
    method: str,
    logger: str,
    message: str,
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("decoder failed")

    monkeypatch.setattr(owner, method, broken)
    evaluator = LocalEvaluator(model, phones=PhoneAligner())
    with caplog.at_level(logging.WARNING, logger=logger):
        result = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT)
    assert message in caplog.text
    assert all(w.phones == () for w in result.words)
    # Scored as by an evaluator without phones (the trained scorer's phone features then
    # weigh nothing).
    assert result.scores == LocalEvaluator(model).read_aloud(jfk, jfk_heard, JFK_TEXT).scores
    assert [w.accuracy for w in result.words] == [w.accuracy for w in correct.words]


def test_a_recording_over_the_limit_gets_no_phones(
    model: SpeechModel, jfk: Samples, jfk_heard: FinalTranscript
) -> None:
    evaluator = LocalEvaluator(model, phones=PhoneAligner(max_audio_s=10.0))  # jfk: 11 s
    result = evaluator.read_aloud(jfk, jfk_heard, JFK_TEXT)
    assert result.words and all(w.phones == () for w in result.words)


def test_the_evaluation_json_carries_the_phones(correct: Evaluation) -> None:
    out = json.loads(json.dumps(correct.to_dict()))
    first = out["words"][0]
    assert first["expected"] == "And"
    assert [p["phone"] for p in first["phones"]] == ["AE", "N", "D"]
    for p in first["phones"]:
        assert set(p) == {"phone", "ipa", "accuracy", "heard_as", "start", "end"}
    expected = [p.to_dict() for p in correct.words[0].phones]
    assert first["phones"] == expected
    assert isinstance(correct.words[0].phones[0], PhoneResult)
