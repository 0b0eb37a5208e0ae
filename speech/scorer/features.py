"""What the trained scorer sees of a read-aloud recording: one named number per feature.

Everything comes from what the evaluator has computed anyway (the forced alignment of what
was read, the final transcript's words and timings, the fluency measures, the hand-tuned
scores of `speech.scoring`), or costs next to nothing: the mean encoder state of the final
transcript's segments, whose encodings the final decode has just made and the model keeps
(`segment_encoding`), and the reference as written forced onto those encodings (one
teacher-forced decoder pass per segment, ~8 ms a short reading with tiny.en on one core):
the evaluator forces what was heard ("2" for "two"), which reads the accent less well.

The phone group (`speech.scorer.phones`) reads the phones the evaluator has given the
reference words: no second alignment. The intonation group (`speech.scorer.intonation`)
reads the recording's pitch and energy over the words' spans.

Bump `FEATURES_VERSION` when a feature changes meaning: an artefact trained on other
features refuses to load (see `speech.scorer.linear`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from speech.audio import SAMPLE_RATE, Samples
from speech.evaluation import WordResult
from speech.fluency import FluencyMeasures
from speech.model import SpeechModel
from speech.pronunciation import ForcedWord, force, forced_text
from speech.scorer.intonation import intonation_features
from speech.scorer.phones import phone_features
from speech.scoring import HandScores
from speech.segment_batch import segment_encoding
from speech.text import FILLERS
from speech.transcript import FinalTranscript

FEATURES_VERSION = 2
EMBEDDING_PREFIX = "emb_"
_FLOOR_LOGPROB = math.log(1e-4)
_LOW_PROB = 0.5  # a word forced below this is one Whisper doubts was said as written

# Feature groups (and `speech.scorer.phones.PHONES`), for the ablations of
# bench/validity.py. Not the reference's length: in speechocean762 longer prompts were
# scored lower, which says nothing of a longer reading; counts (pauses, fillers) are per
# reference word for the same reason.
HAND = ("hand_accuracy", "hand_fluency", "hand_overall")
WHISPER = (
    "forced_logprob_mean",
    "forced_logprob_min",
    "forced_first_logprob_mean",
    "forced_prob_mean",
    "forced_low_share",
    "reference_logprob_mean",
    "reference_logprob_min",
    "reference_first_logprob_mean",
    "reference_low_share",
    "heard_prob_mean",
    "heard_prob_min",
    "substitution_rate",
    "omission_rate",
    "insertion_rate",
    "repetition_rate",
    "completeness",
)
TIMING = (
    "speech_rate_wpm",
    "articulation_rate_wpm",
    "pauses_per_word",
    "pause_share",
    "longest_pause_s",
    "hesitations_per_word",
    "repetitions_per_word",
    "seconds_per_word",
)


class Analysis(Protocol):
    """What the evaluator measured of a reading (`speech.evaluator.ReadAloudAnalysis`)."""

    @property
    def words(self) -> Sequence[WordResult]: ...
    @property
    def forced(self) -> Sequence[ForcedWord | None]: ...
    @property
    def goodness(self) -> Sequence[float | None]: ...
    @property
    def completeness(self) -> float: ...


def evidence(
    model: SpeechModel,
    audio16k: Samples,
    transcript: FinalTranscript,
    analysis: Analysis,
    fluency: FluencyMeasures,
    hand: HandScores,
    *,
    intonation: bool = True,
) -> dict[str, float]:
    """Every feature of a reading, the model's part included (blocking). `intonation`:
    the intonation group too (pitch tracking, ~30 ms per 10 s of audio), which only a
    scorer trained on it needs."""
    out = read_aloud_features(
        analysis.words,
        analysis.forced,
        analysis.goodness,
        analysis.completeness,
        transcript,
        fluency,
        hand,
        pooled_encoding(model, audio16k, transcript),
        forced_reference(model, audio16k, transcript, analysis.words),
    )
    if intonation:
        out.update(intonation_features(audio16k, analysis.words))
    return out


def embedding_names(dim: int) -> tuple[str, ...]:
    return tuple(f"{EMBEDDING_PREFIX}{i:03d}" for i in range(dim))


def pooled_encoding(
    model: SpeechModel, audio16k: Samples, transcript: FinalTranscript
) -> npt.NDArray[np.float64]:
    """Mean encoder state over the content frames of the segments that hold heard words.

    Those are the segments the final decode encoded (`segment_encoding` keeps them), so
    this is a cache hit, not an encoder pass. Blocking. Zeros when nothing was heard."""
    spans = transcript.segments or ((0.0, len(audio16k) / SAMPLE_RATE),)
    total: npt.NDArray[np.float64] | None = None
    count = 0
    for a, b in spans:
        if not any(a <= w.start < b for w in transcript.words):
            continue
        part = audio16k[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)]
        if len(part) < SAMPLE_RATE // 10:
            continue
        enc = segment_encoding(model, part)
        # One encoder state per two mel frames; the rest of the window is padding.
        states = np.asarray(enc.output)[0][: max(1, -(-enc.frames // 2))].astype(np.float64)
        total = states.sum(axis=0) if total is None else total + states.sum(axis=0)
        count += len(states)
    if total is None:
        return np.zeros(_model_width(model))
    return total / count


def forced_reference(
    model: SpeechModel, audio16k: Samples, transcript: FinalTranscript, words: Sequence[WordResult]
) -> list[ForcedWord]:
    """Every reference word as written, forced onto the segment it was heard in (an
    omitted word: onto the segment of the word before it). Blocking."""
    spans = transcript.segments or ((0.0, len(audio16k) / SAMPLE_RATE),)
    reference = [w.expected for w in words if w.expected is not None]
    owner: list[int] = []
    for w in words:
        if w.expected is None:
            continue
        if w.start is not None:
            owner.append(max([0, *(k for k, (a, _) in enumerate(spans) if a <= w.start)]))
        else:
            owner.append(owner[-1] if owner else 0)
    forms = forced_text(reference)
    out: list[ForcedWord] = []
    for k, (a, b) in enumerate(spans):
        mine = [forms[i] for i, o in enumerate(owner) if o == k]
        part = audio16k[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)]
        if not mine:
            continue
        if len(part) < SAMPLE_RATE // 10:
            out += [ForcedWord(_FLOOR_LOGPROB, 1e-4, a, a)] * len(mine)
            continue
        mine[0] = mine[0][:1].upper() + mine[0][1:]
        out += force(model, segment_encoding(model, part), mine)
    return out


def _model_width(model: SpeechModel) -> int:
    return int(model.padding_states().shape[-1])


def read_aloud_features(
    words: Sequence[WordResult],
    forced: Sequence[ForcedWord | None],
    goodness: Sequence[float | None],
    completeness: float,
    transcript: FinalTranscript,
    fluency: FluencyMeasures,
    hand: HandScores,
    embedding: npt.NDArray[np.float64],
    as_written: Sequence[ForcedWord],
) -> dict[str, float]:
    """The named features of one read-aloud evaluation (see the groups above)."""
    reference = [w for w in words if w.expected is not None]
    n = max(1, len(reference))
    # Per said reference word: the forced figures, or (not measured) its goodness, which
    # then falls back to the decoding probability.
    logprobs: list[float] = []
    firsts: list[float] = []
    for f, g in zip(forced, goodness, strict=False):
        if f is not None:
            logprobs.append(f.logprob)
            firsts.append(math.log(max(f.first, 1e-4)))
        elif g is not None:
            logprobs.append(g)
            firsts.append(g)
    logprobs = logprobs or [_FLOOR_LOGPROB]
    firsts = firsts or [_FLOOR_LOGPROB]
    ref_logprobs = [f.logprob for f in as_written] or [_FLOOR_LOGPROB]
    ref_firsts = [math.log(max(f.first, 1e-4)) for f in as_written] or [_FLOOR_LOGPROB]
    heard = [w.probability for w in transcript.words if w.key and w.key not in FILLERS] or [0.0]
    kinds = [w.error_type for w in words]
    out = {
        "hand_accuracy": hand.accuracy,
        "hand_fluency": hand.fluency,
        "hand_overall": hand.overall,
        "forced_logprob_mean": float(np.mean(logprobs)),
        "forced_logprob_min": min(logprobs),
        "forced_first_logprob_mean": float(np.mean(firsts)),
        "forced_prob_mean": float(np.mean(np.exp(logprobs))),
        "forced_low_share": float(np.mean([lp < math.log(_LOW_PROB) for lp in logprobs])),
        "reference_logprob_mean": float(np.mean(ref_logprobs)),
        "reference_logprob_min": min(ref_logprobs),
        "reference_first_logprob_mean": float(np.mean(ref_firsts)),
        "reference_low_share": float(np.mean([lp < math.log(_LOW_PROB) for lp in ref_logprobs])),
        "heard_prob_mean": float(np.mean(heard)),
        "heard_prob_min": min(heard),
        "substitution_rate": kinds.count("mispronunciation") / n,
        "omission_rate": kinds.count("omission") / n,
        "insertion_rate": kinds.count("insertion") / n,
        "repetition_rate": kinds.count("repetition") / n,
        "completeness": completeness,
        "speech_rate_wpm": fluency.speech_rate_wpm,
        "articulation_rate_wpm": fluency.articulation_rate_wpm,
        "pauses_per_word": fluency.pause_count / n,
        "pause_share": fluency.pause_total_s / max(fluency.speaking_time_s, 0.01),
        "longest_pause_s": fluency.longest_pause_s,
        "hesitations_per_word": fluency.hesitations / n,
        "repetitions_per_word": fluency.repetitions / n,
        "seconds_per_word": fluency.speaking_time_s / n,
    }
    out.update(phone_features(reference))
    out.update(zip(embedding_names(len(embedding)), map(float, embedding), strict=True))
    return out
