"""Phone-level results of a reading: each word's expected phones, where they were said,
how well (GOP) and what was heard instead (`heard_as`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from speech.alignment import Pair
from speech.audio import SAMPLE_RATE, Samples
from speech.evaluation import PhoneResult
from speech.phones.goodness import word_phones
from speech.phones.helper import FreeLoopHelper
from speech.phones.lexicon import load as load_lexicon
from speech.phones.sphinx import Decoders
from speech.text import Token
from speech.transcript import Word

_MIN_AUDIO = SAMPLE_RATE // 10
_EDGE_PAD_S = 0.3
# Senones scored every second frame (pocketsphinx's `ds`): a third less time than every
# frame, and on speechocean762's word scores the phones' GOP correlated about as well.
_DOWNSAMPLE = 2
log = logging.getLogger(__name__)

PhonesOfWord = tuple[PhoneResult, ...]


class PhoneAligner:
    """Thread-safe: CMUdict is read on first use (once a process; `warm_up` does it
    ahead), each call has its own decoder. `max_audio_s`: a longer recording gets no
    phones (the cost grows with the audio, and the final waits for it); 0 for no limit."""

    def __init__(self, *, max_audio_s: float = 0.0, helper_process: bool = False) -> None:
        """`helper_process`: run the free phone loop in a second process beside the forced
        alignment when it is idle (`speech.phones.helper`): the same phones, sooner."""
        self._helper = FreeLoopHelper() if helper_process else None
        self._decoders = Decoders(compute_all=True, downsample=_DOWNSAMPLE, helper=self._helper)
        self._max_samples = round(max_audio_s * SAMPLE_RATE)

    def warm_up(self) -> None:
        """Read CMUdict now (about a second), and start the helper process (this reading
        is its first pass), not on the first learner's reading."""
        if self._helper is not None:
            self._helper.start()
        self.words(np.zeros(SAMPLE_RATE // 2, dtype=np.float32), ["a"])

    def close(self) -> None:
        if self._helper is not None:
            self._helper.close()

    def words(self, audio16k: Samples, words: Sequence[str]) -> list[PhonesOfWord]:
        """For each of `words` (as written, in the order they were said, all of them in
        `audio16k`), the results of its expected phones: () for a word without a known
        pronunciation (see `speech.phones.lexicon`), and for every word when they could
        not all be aligned. Never raises: a failure is logged and gives no phones.
        Blocking (about 0.07 s of CPU a second of audio, see docs/pronunciation.md)."""
        none: list[PhonesOfWord] = [()] * len(words)
        if len(audio16k) < _MIN_AUDIO or 0 < self._max_samples < len(audio16k):
            return none
        try:
            lex = load_lexicon()
            pronunciations = [lex.pronunciations(w) for w in words]
            if not any(pronunciations):
                return none
            decoded = self._decoders.decode(audio16k, pronunciations)
            found = word_phones(decoded, pronunciations)
            if not found:
                found = self._padded(audio16k, pronunciations)
        except Exception:  # phones are extra detail: the evaluation goes on without them
            log.warning("phone alignment failed", exc_info=True)
            return none
        if not found:
            log.debug("phones not aligned: no path through %d words", len(words))
        return [found.get(i, ()) for i in range(len(words))]

    def _padded(
        self, audio16k: Samples, pronunciations: Sequence[Sequence[Sequence[str]]]
    ) -> dict[int, PhonesOfWord]:
        """A second try with silence around the recording. With none, a reading that
        starts or ends right at the recording's edge leaves the search no room to enter
        its first phone or finish its last, and no path goes through every word (the
        text of each of the 30 speechocean762 readings, of 507, that had no phones finds
        one this way). Times are the recording's own, clamped to it."""
        pad = np.zeros(round(_EDGE_PAD_S * SAMPLE_RATE), dtype=np.float32)
        decoded = self._decoders.decode(np.concatenate([pad, audio16k, pad]), pronunciations)
        found = word_phones(decoded, pronunciations, offset_s=-_EDGE_PAD_S)
        end = round(len(audio16k) / SAMPLE_RATE, 2)

        def inside(p: PhoneResult) -> PhoneResult:
            start = min(max(p.start, 0.0), end)
            return replace(p, start=start, end=min(max(p.end, start), end))

        return {i: tuple(inside(p) for p in phones) for i, phones in found.items()}

    def reading(
        self,
        audio16k: Samples,
        ref_words: Sequence[str],
        pairs: Sequence[Pair],
        ref_tokens: Sequence[Token],
        heard_tokens: Sequence[Token],
        heard: Sequence[Word],
    ) -> list[PhonesOfWord]:
        """Per reference word, its phones' results (() when it was omitted).

        What is aligned is what was read, in order: each reference word that was said,
        matched or not, with its own pronunciations (its expected phones, which is where
        a mispronunciation shows), and each extra heard word with the heard word's, so a
        repetition does not stretch the next word's phones over itself. Omitted words
        are left out: their phones have no audio to go to."""
        forms: list[str] = []
        owner: list[int | None] = []
        last_heard: int | None = None
        for pair in pairs:
            if pair.op == "omit":
                continue
            if pair.ref is not None:
                index = ref_tokens[pair.ref].source
                if index not in owner:  # a word of several tokens ("10": "ten") once
                    forms.append(ref_words[index])
                    owner.append(index)
                if pair.heard is not None:
                    last_heard = heard_tokens[pair.heard].source
                continue
            if pair.heard is None:
                continue
            source = heard_tokens[pair.heard].source
            if source != last_heard:
                forms.append(heard[source].word.strip())
                owner.append(None)
                last_heard = source
        found = self.words(audio16k, forms)
        if not any(found) and None in owner:
            # No path through the extra words as heard (a misheard word's pronunciation
            # may not fit its audio at all): the reference's words alone, stretched over
            # the extras, still place and grade their own phones.
            said = [o for o in owner if o is not None]
            found, owner = self.words(audio16k, [ref_words[o] for o in said]), list(said)
        out: list[PhonesOfWord] = [()] * len(ref_words)
        for owned, phones in zip(owner, found, strict=True):
            if owned is not None:
                out[owned] = phones
        return out
