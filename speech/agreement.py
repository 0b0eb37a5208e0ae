"""LocalAgreement-2: a word is committed once two consecutive passes agree on it.

Pure bookkeeping over `Word`s with utterance-relative times; no model here, so the rule
is unit-tested on its own. Committed words never change: later passes only extend them.
"""

from __future__ import annotations

from itertools import takewhile

from speech.decoding import drop_repeated_tail
from speech.transcript import Word

# Alignment times wobble by a frame or two between passes over different windows.
_TIME_SLACK_S = 0.1
_MAX_OVERLAP_WORDS = 5
_LOOP_CONTEXT_WORDS = 12


class Agreement:
    """`min_probability`: a word the newest pass is unsure of is not committed on the
    agreement of two passes, only of three (`_held` counts the leading tentative words
    two passes already agreed on). Whisper gives the first word after a window start a
    low probability pass after pass ("Ask" 0.01-0.14 in jfk.wav), and holding it back
    holds back every word after it."""

    def __init__(self, *, min_probability: float = 0.0) -> None:
        self.min_probability = min_probability
        self.committed: list[Word] = []
        self.tentative: list[Word] = []
        self.preview: list[Word] | None = None
        self._held = 0

    @property
    def shown(self) -> list[Word]:
        """The tentative words to show: the newest pass's, a glimpse's included."""
        return self.tentative if self.preview is None else self.preview

    @property
    def committed_end(self) -> float:
        return self.committed[-1].end if self.committed else 0.0

    def _fresh(self, words: tuple[Word, ...] | list[Word]) -> list[Word]:
        """The part of a pass that is not already committed."""
        cut = self.committed_end - _TIME_SLACK_S
        fresh = [w for w in words if w.start > cut] if self.committed else list(words)
        if fresh and self.committed and abs(fresh[0].start - self.committed_end) < 1.0:
            # The window re-decodes a word or two that is already committed: drop the
            # longest head of the pass that repeats the tail of the committed words.
            for n in range(min(_MAX_OVERLAP_WORDS, len(fresh), len(self.committed)), 0, -1):
                if [w.key for w in self.committed[-n:]] == [w.key for w in fresh[:n]]:
                    fresh = fresh[n:]
                    break
        # A loop can straddle the window start: the pass repeats the last committed phrase.
        recent = self.committed[-_LOOP_CONTEXT_WORDS:]
        kept = drop_repeated_tail([*recent, *fresh])
        return fresh[: max(0, len(kept) - len(recent))]

    def glimpse(self, words: tuple[Word, ...] | list[Word]) -> None:
        """Take a pass to show but not to count: it heard too little more audio than the
        last one to be evidence for it (two passes over nearly the same audio agree on a
        half-heard word as readily as on a whole one)."""
        self.preview = self._fresh(words)

    def clear_tentative(self) -> None:
        self.tentative, self.preview, self._held = [], None, 0

    def insert(self, words: tuple[Word, ...] | list[Word]) -> list[Word]:
        """Take a new pass; returns the words it newly commits."""
        self.preview = None
        fresh = self._fresh(words)
        same = 0
        for old, new in zip(self.tentative, fresh, strict=False):
            if old.key != new.key or not new.key:
                break
            same += 1
        agreed = 0
        while agreed < same and (
            fresh[agreed].probability >= self.min_probability or agreed < self._held
        ):
            agreed += 1
        newly = fresh[:agreed]
        self.committed.extend(newly)
        self.tentative = fresh[agreed:]
        self._held = same - agreed
        return newly

    def commit_all(self, words: tuple[Word, ...] | list[Word]) -> list[Word]:
        """The last pass: everything it heard past the committed words is committed."""
        fresh = self._fresh(words)
        self.committed.extend(fresh)
        self.clear_tentative()
        return fresh

    def commit_before(self, time_s: float) -> list[Word]:
        """Force-commit tentative words ending before `time_s` (the window got too long)."""
        newly = list(takewhile(lambda w: w.end <= time_s, self.tentative))
        self.committed.extend(newly)
        self.tentative = self.tentative[len(newly) :]
        self.preview = None
        self._held = max(0, self._held - len(newly))
        return newly
