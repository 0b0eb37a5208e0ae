# ruff: noqa: RUF001 (IPA letters that look like Latin ones are meant)
"""ARPAbet, the phone set of CMUdict and of pocketsphinx's en-US model, and its IPA.

CMUdict marks vowel stress (0 none, 1 primary, 2 secondary); the acoustic model does
not. A phone is reported without its stress digit, but its IPA keeps what stress tells:
an unstressed AH is a schwa, an unstressed ER a schwa with r-colouring.
"""

from __future__ import annotations

IPA = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "B": "b",
    "CH": "tʃ", "D": "d", "DH": "ð", "EH": "ɛ", "ER": "ɝ", "EY": "eɪ", "F": "f",
    "G": "ɡ", "HH": "h", "IH": "ɪ", "IY": "i", "JH": "dʒ", "K": "k", "L": "l",
    "M": "m", "N": "n", "NG": "ŋ", "OW": "oʊ", "OY": "ɔɪ", "P": "p", "R": "ɹ",
    "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "UH": "ʊ", "UW": "u", "V": "v",
    "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
}  # fmt: skip
_UNSTRESSED = {"AH": "ə", "ER": "ɚ"}
PHONES = frozenset(IPA)
VOWELS = frozenset(p for p in IPA if p[0] in "AEIOU")
SILENCE = "SIL"


def base(phone: str) -> str:
    """The phone without its stress digit ("IH1" -> "IH")."""
    return phone.rstrip("012")


def ipa(phone: str) -> str:
    """IPA of an ARPAbet phone, with or without a stress digit ("AH0" -> "ə")."""
    bare = base(phone)
    if phone.endswith("0") and bare in _UNSTRESSED:
        return _UNSTRESSED[bare]
    return IPA[bare]
