"""Goodness of pronunciation per phone, from a forced alignment and a free phone loop.

For an expected phone aligned over frames [s, e): GOP = (aligned score - free score over
the same frames) / (e - s), in nats per frame. The free score of a frame is its share of
the free loop's segment there (segment score / segment length): the free loop's best
path has no phone boundaries at s and e. GOP is about 0 when the expected phone is what
the free loop heard, or as good; it falls as the audio fits the expected phone worse
than the phones the free loop chose.

`heard_as` is the free loop's phone covering most of the expected phone's frames (None
when that is silence or noise): "you said /s/ where /θ/ belongs".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from speech.evaluation import PhoneResult
from speech.phones.arpabet import base, ipa
from speech.phones.sphinx import FRAME_S, Decoded, Segment, is_silence

# Accuracy 0-100 from GOP: 100 at or above GOP_FULL, 0 at or below GOP_NONE, linear
# between (nats per frame), so monotone. Placed on speechocean762: the phones of words
# its experts rated 9-10 of 10 have a median GOP of -1.9 (accuracy 85) and a lower
# quartile of -3.5 (58); those of words rated 5 or less a lower quartile of -5.1 (32).
GOP_FULL = -1.0
GOP_NONE = -7.0


def accuracy(gop: float) -> int:
    """0-100 from a GOP (see GOP_FULL and GOP_NONE)."""
    share = (gop - GOP_NONE) / (GOP_FULL - GOP_NONE)
    return round(100 * min(1.0, max(0.0, share)))


def free_score(free: tuple[Segment, ...], start: int, end: int) -> float:
    """The free loop's score over frames [start, end), each segment shared out evenly
    over its frames."""
    total = 0.0
    for seg in free:
        overlap = min(end, seg.end) - max(start, seg.start)
        if overlap > 0:
            total += seg.score * overlap / (seg.end - seg.start)
    return total


def heard_as(free: tuple[Segment, ...], start: int, end: int) -> str | None:
    """The free loop's phone over most of frames [start, end); None for silence."""
    frames: Counter[str] = Counter()
    for seg in free:
        overlap = min(end, seg.end) - max(start, seg.start)
        if overlap > 0:
            frames[seg.phone] += overlap
    if not frames:
        return None
    phone = frames.most_common(1)[0][0]
    return None if is_silence(phone) else phone


def word_phones(
    decoded: Decoded,
    pronunciations: Sequence[Sequence[Sequence[str]]],
    offset_s: float = 0.0,
) -> dict[int, tuple[PhoneResult, ...]]:
    """Per aligned word (its index in the words given to the decoder), its phones'
    results. `pronunciations[i]` are word i's pronunciations with stress digits (the one
    the decoder chose is found by its bare phones), for the IPA; `offset_s` is added to
    every time."""
    out: dict[int, tuple[PhoneResult, ...]] = {}
    for word in decoded.words:
        stressed = _variant(pronunciations[word.index], [p.phone for p in word.phones])
        results = []
        for k, seg in enumerate(word.phones):
            frames = seg.end - seg.start
            gop = (seg.score - free_score(decoded.free, seg.start, seg.end)) / max(1, frames)
            results.append(
                PhoneResult(
                    phone=seg.phone,
                    ipa=ipa(stressed[k]),
                    accuracy=accuracy(gop),
                    heard_as=heard_as(decoded.free, seg.start, seg.end),
                    start=round(offset_s + seg.start * FRAME_S, 2),
                    end=round(offset_s + seg.end * FRAME_S, 2),
                    gop=gop,
                    frames=frames,
                )
            )
        out[word.index] = tuple(results)
    return out


def _variant(prons: Sequence[Sequence[str]], bare: list[str]) -> Sequence[str]:
    for pron in prons:
        if [base(p) for p in pron] == bare:
            return pron
    return bare
