"""Score formulas: measures in, 0-100 scores out.

The constants were hand-tuned against expert ratings of non-native read speech, on the
very utterances they were then measured on. A read-aloud's utterance scores now come from
the trained scorer (`speech.scorer`), which reads these scores among its features; word
scores, open responses and the baseline of bench/validity.py still come from here.
Change a constant only with that benchmark's figures, retrain (bench/train_scorer.py),
and bump `EVALUATOR_VERSION`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from speech.evaluation import WordResult
from speech.fluency import FluencyMeasures

# Word goodness: a mix of the reference word's forced-alignment log probability and the
# free-decoding probability of what was heard, mapped to 0-100 by a logistic curve.
FORCED_WEIGHT = 0.7
GOODNESS_MIDPOINT = -1.6
GOODNESS_SLOPE = 1.5
SUBSTITUTION_CAP = 50

# Fluency: expected reading pace and what each kind of break costs.
RATE_FLOOR_WPM = 40.0
RATE_GOOD_WPM = 130.0
PAUSE_COST = 10.0
PAUSE_SECOND_COST = 0.0
HESITATION_COST = 6.0
REPETITION_COST = 6.0

# Experts hear hesitant, unclear speech as less fluent even at a good pace: fluency
# blends delivery (pace, pauses, fillers) with how confidently the words came out.
FLUENCY_ACCURACY_SHARE = 0.5

OVERALL_WEIGHTS = (0.6, 0.3, 0.1)  # accuracy, fluency, completeness


def clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return min(max(value, low), high)


def word_goodness(forced_logprob: float | None, heard_prob: float | None) -> float:
    """Log-probability-like goodness (<= 0) from whichever signals exist."""
    heard = math.log(max(heard_prob, 1e-4)) if heard_prob is not None else None
    if forced_logprob is None:
        return heard if heard is not None else math.log(1e-4)
    if heard is None:
        return forced_logprob
    return FORCED_WEIGHT * forced_logprob + (1.0 - FORCED_WEIGHT) * heard


def word_accuracy(goodness: float, *, substituted: bool = False) -> int:
    score = 100.0 / (1.0 + math.exp(-GOODNESS_SLOPE * (goodness - GOODNESS_MIDPOINT)))
    if substituted:
        score = min(score, SUBSTITUTION_CAP)
    return round(score)


def fluency_score(m: FluencyMeasures, accuracy: float) -> int:
    """`accuracy` is the utterance's 0-100 accuracy score."""
    if m.word_count == 0:
        return 0
    pace = clamp(100.0 * (m.speech_rate_wpm - RATE_FLOOR_WPM) / (RATE_GOOD_WPM - RATE_FLOOR_WPM))
    penalty = (
        PAUSE_COST * m.pause_count
        + PAUSE_SECOND_COST * m.pause_total_s
        + HESITATION_COST * m.hesitations
        + REPETITION_COST * m.repetitions
    )
    delivery = clamp(pace - penalty)
    share = FLUENCY_ACCURACY_SHARE
    return round((1.0 - share) * delivery + share * clamp(accuracy))


def overall_score(accuracy: float, fluency: float, completeness: float | None) -> int:
    wa, wf, wc = OVERALL_WEIGHTS
    if completeness is None:
        return round(clamp((wa * accuracy + wf * fluency) / (wa + wf)))
    return round(clamp(wa * accuracy + wf * fluency + wc * completeness))


@dataclass(frozen=True, slots=True)
class HandScores:
    """The utterance scores of these formulas (0-100): the baseline the trained scorer
    (`speech.scorer`) is measured against, and evidence it reads."""

    accuracy: float
    fluency: float
    overall: float


def utterance_scores(
    words: Sequence[WordResult], completeness: float, m: FluencyMeasures
) -> HandScores:
    """`completeness` is the share (0-1) of reference words said."""
    scored = [w for w in words if w.expected is not None]
    # Omitted words count in completeness, not again in accuracy (as experts score).
    said = [w.accuracy or 0 for w in scored if w.error_type != "omission"]
    accuracy = sum(said) / len(said) if said else 0.0
    fluency = fluency_score(m, accuracy)
    return HandScores(accuracy, fluency, overall_score(accuracy, fluency, 100.0 * completeness))
