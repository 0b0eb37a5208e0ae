"""The scorer's phone group: a reading's phones (`WordResult.phones`, `speech.phones`)
summed up over the whole reading, as `speech.scorer.features` hands them to the scorer.

NaN for every one of them when no reference word has phones (phones switched off, a
recording over `phones_max_audio_s`, an alignment that failed): the scorer reads NaN as
the training mean (`speech.scorer.linear.standardise`), so they then weigh nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from speech.evaluation import WordResult

# GOP (nats per frame) below which a phone counts as doubtful / as wrong: on
# speechocean762 the lower quartile of the phones of words rated 9-10 of 10 is -3.5, of
# words rated 5 or less -5.1 (docs/pronunciation.md).
_GOP_DOUBTFUL = -3.0
_GOP_WRONG = -5.0

PHONES = (
    "phone_gop_mean",
    "phone_gop_doubtful_share",
    "phone_gop_wrong_share",
    "phone_word_min_gop_mean",
    "phone_heard_other_share",
    "phone_word_share",
)


def phone_features(reference: Sequence[WordResult]) -> dict[str, float]:
    """The PHONES group over the reference words' phones (NaN each when none has any).

    Shares are over all expected phones of the words that have them; `heard_other` is a
    phone the free phone loop heard as another phone (not as silence);
    `phone_word_share` is over every reference word, omitted ones included."""
    per_word = [[p.gop for p in w.phones] for w in reference if w.phones]
    if not per_word:
        return dict.fromkeys(PHONES, math.nan)
    gops = [g for word in per_word for g in word]
    phones = [p for w in reference for p in w.phones]
    return {
        "phone_gop_mean": float(np.mean(gops)),
        "phone_gop_doubtful_share": float(np.mean([g < _GOP_DOUBTFUL for g in gops])),
        "phone_gop_wrong_share": float(np.mean([g < _GOP_WRONG for g in gops])),
        "phone_word_min_gop_mean": float(np.mean([min(word) for word in per_word])),
        "phone_heard_other_share": float(
            np.mean([p.heard_as is not None and p.heard_as != p.phone for p in phones])
        ),
        "phone_word_share": len(per_word) / max(1, len(reference)),
    }
