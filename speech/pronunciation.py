"""Goodness of pronunciation from Whisper with the reference text forced on the audio.

`ctranslate2.models.Whisper.align()` runs the decoder over given text (teacher forcing)
and returns each token's probability under the audio: a word said clearly as written
gets a high probability, a mispronounced, swapped or missing word a low one. The same
call gives each word's place in the audio from the cross-attention alignment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from speech.decoding import Encoded
from speech.model import SpeechModel

_TOKENS_PER_S = 50.0
_MIN_PROB = 1e-4
_PUNCTUATION = '.,;:!?"()[]-\u201c\u201d\u2013\u2014'


@dataclass(frozen=True, slots=True)
class ForcedWord:
    """A reference word forced onto the audio.

    `logprob` is the mean natural-log probability of its tokens, `first` the probability
    of its first token (the one that decides which word it is), times in seconds.
    """

    logprob: float
    first: float
    start: float
    end: float

    @property
    def probability(self) -> float:
        return math.exp(self.logprob)


def forced_text(words: list[str]) -> list[str]:
    """Word forms that Whisper itself would write: no punctuation, sentence case."""
    cleaned = [w.strip(_PUNCTUATION).lower() for w in words]
    out = [w if w != "i" and not w.startswith("i'") else w.capitalize() for w in cleaned]
    if out:
        out[0] = out[0][:1].upper() + out[0][1:]
    return out


def force(model: SpeechModel, enc: Encoded, words: list[str]) -> list[ForcedWord]:
    """Per-word probabilities and times of `words` (already in the form to force).

    Blocking; run it through `SpeechModel.run`. Empty words get probability 1 and no span.
    """
    tok = model.tokenizer
    spans: list[tuple[int, int]] = []
    ids: list[int] = []
    for word in words:
        pieces = tok.encode(" " + word) if word else []
        spans.append((len(ids), len(ids) + len(pieces)))
        ids.extend(pieces)
    if not ids or enc.frames < 2:
        return [ForcedWord(math.log(_MIN_PROB), _MIN_PROB, 0.0, 0.0) for _ in words]
    start = [*tok.sot_sequence, tok.no_timestamps]
    result = model.ct2.align(enc.output, start, [ids], enc.frames, median_filter_width=7)[0]
    probs = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), _MIN_PROB)
    token_starts = _token_starts(result.alignments, len(ids))
    end_of_audio = enc.duration_s
    forced: list[ForcedWord] = []
    for first, last in spans:
        if first == last:
            forced.append(ForcedWord(0.0, 1.0, 0.0, 0.0))
            continue
        begin = token_starts[first]
        finish = token_starts[last] if last < len(ids) else end_of_audio
        forced.append(
            ForcedWord(
                logprob=float(np.mean(np.log(probs[first:last]))),
                first=float(probs[first]),
                start=round(begin, 2),
                end=round(max(begin, finish), 2),
            )
        )
    return forced


def _token_starts(alignments: list[tuple[int, int]], count: int) -> list[float]:
    """Time (s) at which the DTW path first reaches each text token."""
    starts = [0.0] * (count + 1)
    seen = -1
    for text_index, time_index in alignments:
        if text_index > seen and text_index <= count:
            for k in range(seen + 1, text_index + 1):
                starts[k] = time_index / _TOKENS_PER_S
            seen = text_index
    for k in range(seen + 1, count + 1):
        starts[k] = starts[seen] if seen >= 0 else 0.0
    return starts
