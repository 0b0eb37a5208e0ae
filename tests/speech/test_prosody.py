"""Prosodic flags of a reading (`speech.prosody`) on real recordings, edited where a test
needs a pause added or taken away or the pitch flattened, through the local evaluator
with the real Whisper model and pocketsphinx's phones."""

from __future__ import annotations

import json

import numpy as np
import parselmouth
import pytest

from speech.audio import SAMPLE_RATE, Samples, load_wav_16k
from speech.decoding import decode
from speech.evaluation import Evaluation, WordResult
from speech.evaluator import LocalEvaluator
from speech.model import SpeechModel
from speech.phones import PhoneAligner
from speech.prosody.boundaries import after_each_word
from speech.prosody.pitch import track
from speech.transcript import FinalTranscript, join_words
from tests.speech.conftest import JFK_TEXT, NATIVE

AUSTEN = "sense_and_sensibility_01_austen_64kb-0{}.wav"
# Two sentences of one reader, read as two recordings.
FIRST, SECOND = (
    "He was not an ill disposed young man.",
    "He might even have been made amiable himself.",
)
LONG = (
    "And mister John Dashwood had then leisure to consider how much there might be "
    "prudently in his power to do for them."
)


@pytest.fixture(scope="module")
def evaluator(model: SpeechModel) -> LocalEvaluator:
    return LocalEvaluator(model, phones=PhoneAligner())


def read(evaluator: LocalEvaluator, model: SpeechModel, audio: Samples, text: str) -> Evaluation:
    words = decode(model, audio).words
    heard = FinalTranscript(join_words(words), words, model.name, len(audio) // 16)
    return evaluator.read_aloud(audio, heard, text)


def word(evaluation: Evaluation, expected: str, nth: int = 0) -> WordResult:
    return [w for w in evaluation.words if (w.expected or "").strip(",.") == expected][nth]


def at(seconds: float) -> int:
    return round(seconds * SAMPLE_RATE)


@pytest.fixture(scope="module")
def jfk_read(evaluator: LocalEvaluator, model: SpeechModel, jfk: Samples) -> Evaluation:
    return read(evaluator, model, jfk, JFK_TEXT)


def test_an_open_response_has_no_punctuation_to_hold_pauses_against(
    evaluator: LocalEvaluator, model: SpeechModel, jfk: Samples
) -> None:
    words = decode(model, jfk).words
    heard = FinalTranscript(join_words(words), words, model.name, len(jfk) // 16)
    answer = evaluator.open_response(heard).to_dict()
    assert all(w["prosody_errors"] == [] and w["error_type"] == "none" for w in answer["words"])


def test_a_phrase_read_on_gets_no_break(jfk_read: Evaluation) -> None:
    country = word(jfk_read, "country")
    assert country.error_type == "none" and country.prosody_errors == ()
    # JFK's own pause in "ask not ... what": no comma there, so a break, and it is listed.
    what = word(jfk_read, "what")
    assert what.error_type == "unexpected_break"
    assert what.to_dict()["prosody_errors"] == ["unexpected_break"]
    assert json.dumps(jfk_read.to_dict())


def test_a_pause_inside_a_phrase_is_an_unexpected_break_on_the_word_after_it(
    evaluator: LocalEvaluator, model: SpeechModel, jfk: Samples, jfk_read: Evaluation
) -> None:
    # 0.8 s of the recording's own silence (the middle of the pause after "Americans,")
    # put between "your" and "country".
    americans, ask = word(jfk_read, "Americans"), word(jfk_read, "ask")
    middle = (americans.phones[-1].end + ask.phones[0].start) / 2
    quiet = jfk[at(middle - 0.4) : at(middle + 0.4)]
    cut = at(word(jfk_read, "your").phones[-1].end)
    spliced = np.concatenate([jfk[:cut], quiet, jfk[cut:]])
    result = read(evaluator, model, spliced, JFK_TEXT)
    country = word(result, "country")
    assert country.error_type == "unexpected_break"
    assert country.prosody_errors == ("unexpected_break",)
    assert "unexpected_break" not in word(result, "your").prosody_errors
    assert any("paused before" in tip and "“country”" in tip for tip in result.feedback)


def sentences(evaluator: LocalEvaluator, model: SpeechModel) -> tuple[Samples, Samples]:
    """The two readings, each cut to its first word's start and last word's end."""
    out = []
    for name, text in ((AUSTEN.format("880"), FIRST), (AUSTEN.format("930"), SECOND)):
        audio = load_wav_16k(NATIVE / name)
        said = [w for w in read(evaluator, model, audio, text).words if w.phones]
        out.append(audio[at(said[0].phones[0].start) : at(said[-1].phones[-1].end)])
    return out[0], out[1]


def test_a_full_stop_read_over_without_a_pause_is_a_missing_break(
    evaluator: LocalEvaluator, model: SpeechModel
) -> None:
    first, second = sentences(evaluator, model)
    reference = f"{FIRST} {SECOND}"
    run_on = read(evaluator, model, np.concatenate([first, second]), reference)
    man = word(run_on, "man")
    assert "missing_break" in man.prosody_errors
    assert man.error_type in ("missing_break", "mispronunciation")
    # Whisper's word times cannot show a missing pause: without phones it is not judged.
    unaligned = read(LocalEvaluator(model), model, np.concatenate([first, second]), reference)
    assert word(unaligned, "man").prosody_errors == ()
    # The two recordings whole: the reader's own silences after one and before the other.
    whole = [load_wav_16k(NATIVE / AUSTEN.format(n)) for n in ("880", "930")]
    paused = read(evaluator, model, np.concatenate(whole), reference)
    man = word(paused, "man")
    assert man.error_type == "none" and man.prosody_errors == ()


def flattened(audio: Samples) -> Samples:
    """`audio` resynthesised (PSOLA) on one pitch: the reader's median."""
    pitch = track(audio).semitones
    hz = float(100.0 * 2 ** (np.nanmedian(pitch) / 12))
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    call = parselmouth.praat.call
    manipulation = call(sound, "To Manipulation", 0.01, 70, 600)
    tier = call("Create PitchTier", "flat", sound.xmin, sound.xmax)
    call(tier, "Add point", sound.xmax / 2, hz)
    call([manipulation, tier], "Replace pitch tier")
    flat = call(manipulation, "Get resynthesis (overlap-add)")
    return np.asarray(flat.values[0], dtype=np.float32)


def test_a_reading_on_one_pitch_is_monotone_and_the_original_is_not(
    evaluator: LocalEvaluator, model: SpeechModel
) -> None:
    audio = load_wav_16k(NATIVE / AUSTEN.format("870"))
    original = read(evaluator, model, audio, LONG)
    assert not any("monotone" in w.prosody_errors for w in original.words)
    flat = read(evaluator, model, flattened(audio), LONG)
    dashwood = word(flat, "Dashwood")
    assert dashwood.error_type == "monotone" and dashwood.prosody_errors == ("monotone",)
    said = [w for w in flat.words if w.expected and w.error_type != "omission"]
    assert sum("monotone" in w.prosody_errors for w in said) >= 0.8 * len(said)
    # A word misread in that phrase ("had" where the text says "has") keeps its error
    # type, and the phrase's flag is listed beside it.
    misread = read(evaluator, model, flattened(audio), LONG.replace(" had ", " has "))
    has = word(misread, "has").to_dict()
    assert has["error_type"] == "mispronunciation" and has["prosody_errors"] == ["monotone"]


def test_the_punctuation_between_words_is_read_from_the_reference() -> None:
    text = "So, he said — (quietly) “go”; then: left... done"
    assert after_each_word(text) == [",", "", "—(", ")“", "”;", ":", "...", ""]


def test_the_scorer_sees_the_pitch_range_and_the_flags(
    evaluator: LocalEvaluator, model: SpeechModel
) -> None:
    audio = load_wav_16k(NATIVE / AUSTEN.format("870"))
    features = []
    for version in (audio, flattened(audio)):
        words = decode(model, version).words
        heard = FinalTranscript(join_words(words), words, model.name, len(version) // 16)
        features.append(evaluator.read_aloud_features(version, heard, LONG))
    original, flat = features
    assert original["f0_range_st"] > 3 > 1 > flat["f0_range_st"]
    assert original["monotone_share"] == 0 < 0.5 < flat["monotone_share"]
    assert original["break_rate"] == flat["break_rate"] == 0
    assert original["energy_std_db"] > 3 and 0.3 < original["voiced_share"] < 1
