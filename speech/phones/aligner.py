"""Phone-level evidence of a reading: each word's expected phones, where they were said,
how well (GOP) and what was heard instead (`heard_as`)."""

from __future__ import annotations

from collections.abc import Sequence

from speech.alignment import Pair
from speech.audio import SAMPLE_RATE, Samples
from speech.evaluation import PhoneResult
from speech.phones import lexicon
from speech.phones.goodness import word_phones
from speech.phones.sphinx import Decoders
from speech.text import Token
from speech.transcript import Word

_MIN_AUDIO = SAMPLE_RATE // 10


class PhoneAligner:
    """Thread-safe: CMUdict is read on first use (once a process), decoders are lent per
    call. `compute_all`: score every senone each frame, which GOP needs to compare the
    aligned and the free path (see `speech.phones.sphinx`); off, about twice as fast."""

    def __init__(self, *, compute_all: bool = True) -> None:
        self._decoders = Decoders(compute_all=compute_all)

    def words(self, audio16k: Samples, words: Sequence[str]) -> list[tuple[PhoneResult, ...]]:
        """For each of `words` (as written, in the order they were said, all of them in
        `audio16k`), the results of its expected phones; () for a word that has no letters
        or digits, and for every word if they cannot all be aligned. Blocking (about 0.1 s
        of CPU a second of audio with `compute_all`)."""
        lex = lexicon.load()
        pronunciations = [[p.phones for p in lex.pronunciations(w)] for w in words]
        none: list[tuple[PhoneResult, ...]] = [()] * len(words)
        if len(audio16k) < _MIN_AUDIO or not any(pronunciations):
            return none
        decoded = self._decoders.decode(audio16k, pronunciations)
        found = word_phones(decoded, pronunciations)
        return [found.get(i, ()) for i in range(len(words))]

    def reading(
        self,
        audio16k: Samples,
        ref_words: Sequence[str],
        pairs: Sequence[Pair],
        ref_tokens: Sequence[Token],
        heard_tokens: Sequence[Token],
        heard: Sequence[Word],
    ) -> list[tuple[PhoneResult, ...]]:
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
            assert pair.heard is not None
            source = heard_tokens[pair.heard].source
            if source != last_heard:
                forms.append(heard[source].word.strip())
                owner.append(None)
                last_heard = source
        out: list[tuple[PhoneResult, ...]] = [()] * len(ref_words)
        for index, phones in zip(owner, self.words(audio16k, forms), strict=True):
            if index is not None:
                out[index] = phones
        return out
