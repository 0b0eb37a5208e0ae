"""Text normalisation for comparing what was read with what was heard.

Both sides go through the same function, so "10" and "ten", "don't" and "do not",
"Mr." and "mister" compare equal. Each normalised token remembers the index of the
source word it came from, so results are reported against the words the learner saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip
_CONTRACTIONS = {
    "can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not",
    "n't": " not", "'re": " are", "'m": " am", "'ll": " will", "'ve": " have", "'d": " would",
    "let's": "let us",
}  # fmt: skip
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "ok": "okay"}
_SPLIT_SPELLINGS = {"alright": "all right", "everytime": "every time"}
FILLERS = frozenset({"uh", "um", "uhm", "umm", "er", "erm", "ah", "eh", "hmm", "mm", "mhm", "hm"})

_WORD = re.compile(r"[a-z0-9]+(?:['.,][a-z0-9]+)*'?|'[a-z]+")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")


def number_words(n: int) -> str:
    """Cardinal English words for 0 <= n < 10**9 ("twenty one")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return _ONES[n // 100] + " hundred" + rest
    for size, name in ((10**6, "million"), (1000, "thousand")):
        if n >= size:
            rest = "" if n % size == 0 else " " + number_words(n % size)
            return number_words(n // size) + f" {name}" + rest
    raise ValueError(n)


def _year_words(n: int) -> str:
    """1961 -> "nineteen sixty one", the way years are read aloud."""
    high, low = divmod(n, 100)
    tail = "hundred" if low == 0 else ("oh " + _ONES[low] if low < 10 else number_words(low))
    return f"{number_words(high)} {tail}"


def _ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINALS:
        words[-1] = _ORDINALS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _spell_number(token: str) -> str:
    ordinal = _ORDINAL.match(token)
    if ordinal:
        return _ordinal_words(int(ordinal.group(1)))
    digits = token.replace(",", "")
    if "." in digits:
        whole, _, frac = digits.partition(".")
        return f"{_spell_number(whole or '0')} point " + " ".join(_ONES[int(d)] for d in frac)
    if not digits.isdigit() or len(digits) > 9:
        return token
    n = int(digits)
    if len(digits) == 4 and (1100 <= n < 2000 or 2010 <= n < 2100):
        return _year_words(n)
    return number_words(n)


def _expand(token: str) -> str:
    token = token.strip("'")
    if any(c.isdigit() for c in token):
        return _spell_number(token)
    token = token.replace(".", "")
    if token in _ABBREVIATIONS:
        return _ABBREVIATIONS[token]
    if token in _SPLIT_SPELLINGS:
        return _SPLIT_SPELLINGS[token]
    if token in _CONTRACTIONS:
        return _CONTRACTIONS[token]
    for suffix in ("n't", "'re", "'m", "'ll", "'ve", "'d"):
        if token.endswith(suffix) and len(token) > len(suffix):
            return token[: -len(suffix)] + _CONTRACTIONS[suffix]
    # "'s" is "is", "has" or a possessive: keep it on the word, both sides alike.
    return token


@dataclass(frozen=True, slots=True)
class Token:
    """A normalised word and the index of the source word it came from."""

    text: str
    source: int


def source_words(text: str) -> list[str]:
    """The words of `text` as written (split on white space, punctuation-only dropped)."""
    return [w for w in text.split() if any(c.isalnum() for c in w)]


def normalize(words: list[str]) -> list[Token]:
    """Normalised tokens of source `words` (e.g. from `source_words`)."""
    tokens: list[Token] = []
    for index, word in enumerate(words):
        lowered = word.lower().replace("\u2019", "'").replace("\u2018", "'").replace("-", " ")
        for raw in _WORD.findall(lowered):
            tokens.extend(Token(part, index) for part in _expand(raw).split() if part)
    return tokens


def normalize_text(text: str) -> list[str]:
    return [t.text for t in normalize(source_words(text))]
