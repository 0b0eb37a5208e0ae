"""Dictionary senses of an English word from Princeton WordNet 3.0's database files, as
Debian's `wordnet-base` installs them (/usr/share/wordnet): read in place, offline.

The index files are sorted, so a lookup is a binary search over a memory map rather than
a dictionary of 150,000 lemmas held in every node's memory; a sense is one seek into the
data file. Inflected forms ("mice", "went", "running") are reduced to their lemma by
WordNet's own morphology: its exception lists first, then its suffix rules (`morphy`).
"""

from __future__ import annotations

import mmap
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path("/usr/share/wordnet")

# WordNet's parts of speech, file suffixes and names; "s" (satellite adjective) is an
# adjective in the data files.
_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_NAMES = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}

# morphy's detachment rules (WordNet's morph.c): suffix -> ending, per part of speech.
_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "n": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sense:
    """One meaning: the lemma it was found under, its part of speech, the definition and
    WordNet's example sentences for it."""

    lemma: str
    part_of_speech: str
    definition: str
    examples: tuple[str, ...]


class WordNet:
    """Lookups in one WordNet database folder; thread-safe once opened."""

    def __init__(self, path: Path) -> None:
        self._index: dict[str, mmap.mmap] = {}
        self._data: dict[str, mmap.mmap] = {}
        self._exceptions: dict[str, dict[str, tuple[str, ...]]] = {}
        for pos, name in _FILES.items():
            self._index[pos] = _map(path / f"index.{name}")
            self._data[pos] = _map(path / f"data.{name}")
            self._exceptions[pos] = _exceptions(path / f"{name}.exc")

    def senses(self, word: str, *, per_pos: int = 3, limit: int = 6) -> list[Sense]:
        """The word's senses: for each part of speech its `per_pos` most frequent ones
        (WordNet's order), at most `limit` in all, so a word that is mostly a verb is not
        shown as nouns only; [] for an unknown word."""
        key = "_".join(word.strip().lower().split())
        readings: list[tuple[str, str, list[int]]] = []
        for pos in _FILES:
            lemmas = self._lemmas(key, pos)
            if lemmas:  # the first lemma that WordNet knows is the word's reading here
                readings.append((pos, lemmas[0], self._offsets(lemmas[0], pos)))
        # The part of speech with the most senses first: "think" is a verb before a noun.
        readings.sort(key=lambda reading: -len(reading[2]))
        found = [
            self._sense(lemma, pos, offset)
            for pos, lemma, offsets in readings
            for offset in offsets[:per_pos]
        ]
        return found[:limit]

    def _lemmas(self, key: str, pos: str) -> list[str]:
        forms = [key, *self._exceptions[pos].get(key, ())]
        for suffix, ending in _RULES[pos]:
            if key.endswith(suffix) and len(key) > len(suffix):
                forms.append(key[: -len(suffix)] + ending)
        return [f for f in dict.fromkeys(forms) if self._line(f, pos) is not None]

    def _offsets(self, lemma: str, pos: str) -> list[int]:
        line = self._line(lemma, pos)
        if line is None:
            return []
        fields = line.split()
        pointers = int(fields[3])
        synsets = int(fields[2])
        start = 4 + pointers + 2  # lemma pos synset_cnt p_cnt ptrs... sense_cnt tagsense_cnt
        return [int(f) for f in fields[start : start + synsets]]

    def _line(self, lemma: str, pos: str) -> str | None:
        """The index line of `lemma`, by binary search over the sorted file."""
        index = self._index[pos]
        target = lemma.encode()
        lo, hi = 0, len(index)
        while lo < hi:
            mid = (lo + hi) // 2
            start = index.rfind(b"\n", 0, mid) + 1
            end = index.find(b"\n", start)
            end = len(index) if end < 0 else end
            line = index[start:end]
            if line.startswith(b"  "):  # the licence at the head sorts before every lemma
                lo = end + 1
                continue
            head = line.split(b" ", 1)[0]
            if head == target:
                return line.decode()
            if head < target:
                lo = end + 1
            else:
                hi = start
        return None

    def _sense(self, lemma: str, pos: str, offset: int) -> Sense:
        data = self._data[pos]
        end = data.find(b"\n", offset)
        line = data[offset:end].decode()
        ss_type = line.split(" ", 3)[2]
        gloss = line.partition(" | ")[2].strip()
        definition, examples = _split_gloss(gloss)
        return Sense(lemma.replace("_", " "), _NAMES[ss_type], definition, examples)


def _split_gloss(gloss: str) -> tuple[str, tuple[str, ...]]:
    """A gloss is the definition, then '; "example"' parts; other '; ' parts belong to the
    definition."""
    parts = [p.strip() for p in gloss.split("; ")]
    definition = [p for p in parts if not p.startswith('"')]
    examples = [p.strip('"') for p in parts if p.startswith('"')]
    return "; ".join(definition), tuple(examples)


def _map(path: Path) -> mmap.mmap:
    with path.open("rb") as file:
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def _exceptions(path: Path) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for line in path.read_text().splitlines():
        inflected, *lemmas = line.split()
        found[inflected] = tuple(lemmas)
    return found


_opened: dict[Path, WordNet | None] = {}
_lock = threading.Lock()


def open_wordnet(path: Path = DEFAULT_PATH) -> WordNet | None:
    """The process's WordNet at `path`, opened on first use; None when it is not installed
    (the local analysis then says it has no dictionary)."""
    with _lock:
        if path not in _opened:
            _opened[path] = WordNet(path) if (path / "index.noun").is_file() else None
        return _opened[path]
