"""Letter-to-sound rules: a pronunciation for a word no dictionary knows (offline).

A small rule set, not a trained model: graphemes read left to right, longest match
first, with the contexts English spelling leans on most (soft c and g before e, i, y;
a silent final e that lengthens the vowel before it; -tion, -le). It is right for
regular spellings and close for most others; it is the last resort after the
dictionary and the derivations of `speech.phones.lexicon`, used for names and new
words, whose phones are then reported as guessed.
"""

from __future__ import annotations

_VOWEL_LETTERS = frozenset("aeiouy")
_LONG = {"a": ("EY1",), "e": ("IY1",), "i": ("AY1",), "o": ("OW1",), "u": ("UW1",), "y": ("AY1",)}
_SHORT = {"a": ("AE1",), "e": ("EH1",), "i": ("IH1",), "o": ("AA1",), "u": ("AH1",), "y": ("IH0",)}
# Longest graphemes first; each is tried at every position before the single letters.
_GRAPHEMES: dict[str, tuple[str, ...]] = {
    "tion": ("SH", "AH0", "N"), "sion": ("ZH", "AH0", "N"), "ough": ("AO1",),
    "eigh": ("EY1",), "tch": ("CH",), "dge": ("JH",), "igh": ("AY1",), "ght": ("T",),
    "sch": ("S", "K"), "que": ("K",), "air": ("EH1", "R"), "ear": ("IH1", "R"),
    "eer": ("IH1", "R"), "ure": ("Y", "UH1", "R"), "ch": ("CH",), "sh": ("SH",),
    "th": ("TH",), "ph": ("F",), "wh": ("W",), "ck": ("K",), "ng": ("NG",),
    "qu": ("K", "W"), "gh": ("G",), "kn": ("N",), "wr": ("R",), "ee": ("IY1",),
    "ea": ("IY1",), "oo": ("UW1",), "ou": ("AW1",), "ow": ("OW1",), "oi": ("OY1",),
    "oy": ("OY1",), "ai": ("EY1",), "ay": ("EY1",), "au": ("AO1",), "aw": ("AO1",),
    "ei": ("EY1",), "ey": ("EY1",), "ie": ("IY1",), "ue": ("UW1",), "ew": ("UW1",),
    "oa": ("OW1",), "ar": ("AA1", "R"), "or": ("AO1", "R"), "er": ("ER0",),
    "ir": ("ER1",), "ur": ("ER1",), "b": ("B",), "d": ("D",), "f": ("F",),
    "h": ("HH",), "j": ("JH",), "k": ("K",), "l": ("L",), "m": ("M",), "n": ("N",),
    "p": ("P",), "r": ("R",), "s": ("S",), "t": ("T",), "v": ("V",), "w": ("W",),
    "x": ("K", "S"), "z": ("Z",),
}  # fmt: skip
_LONGEST = max(map(len, _GRAPHEMES))


def spell_out(word: str) -> tuple[str, ...]:
    """ARPAbet (with stress digits) for the letters of `word`; () if it has none."""
    w = "".join(c for c in word.lower() if c.isalpha())
    if len(w) > 2 and w.endswith("le") and w[-3] not in _VOWEL_LETTERS:
        return (*spell_out(w[:-2]), "AH0", "L")
    # A silent final e (still read as context: dge, soft c and g), and the long vowel
    # it makes of a vowel-consonant-e ending.
    silent_e = len(w) > 2 and w[-1] == "e" and w[-2] not in _VOWEL_LETTERS
    magic = silent_e and len(w) > 3 and w[-3] in _LONG
    end = len(w) - 1 if silent_e else len(w)
    out: list[str] = []
    i = 0
    while i < end:
        c = w[i]
        if i > 0 and c == w[i - 1] and c not in _VOWEL_LETTERS:
            i += 1  # a doubled consonant is one sound
            continue
        size = _grapheme_at(w, i)
        if size:
            grapheme = w[i : i + size]
            # gh is silent inside a word (night, though); kn and wr only begin one.
            if not (grapheme == "gh" and i > 0):
                out.extend(_GRAPHEMES[grapheme])
            i += size
            continue
        nxt = w[i + 1] if i + 1 < len(w) else ""
        if c in "cg":
            soft = nxt in ("e", "i", "y")
            out.append(("S" if soft else "K") if c == "c" else ("JH" if soft else "G"))
        elif c == "y" and i == 0:
            out.append("Y")
        elif c in _VOWEL_LETTERS:
            last_vowel = not any(v in _VOWEL_LETTERS for v in w[i + 1 : end])
            if magic and last_vowel:
                out.extend(_LONG[c])
            elif c == "y" and i == end - 1:
                out.append("IY0" if any(v in _VOWEL_LETTERS for v in w[:i]) else "AY1")
            else:
                out.extend(_SHORT[c])
        elif c in _GRAPHEMES:
            out.extend(_GRAPHEMES[c])
        i += 1
    return tuple(out)


def _grapheme_at(w: str, i: int) -> int:
    """Length of the longest grapheme of two letters or more at `w[i]`, or 0."""
    for size in range(min(_LONGEST, len(w) - i), 1, -1):
        grapheme = w[i : i + size]
        if grapheme in _GRAPHEMES and not (grapheme in ("kn", "wr") and i > 0):
            return size
    return 0
