"""Parley's own help when no LLM answers: dictionary-level, for single words (and the
multi-word expressions WordNet lists, such as "look up"), and a plain sentence saying so
for anything else. Never a made-up explanation."""

from __future__ import annotations

import re
from pathlib import Path

from speech.explain.result import Pronunciation, TextAnalysis
from speech.explain.schema import Definition, Explanation
from speech.explain.wordnet import DEFAULT_PATH, open_wordnet
from speech.phones import lexicon
from speech.phones.arpabet import ipa

LOCAL_MODEL = "wordnet-3.0"

_WORD = re.compile(r"^[A-Za-z][A-Za-z'\u2019-]*$")

# Grammar words: WordNet covers nouns, verbs, adjectives and adverbs only, and the few
# entries it has for these ("a" as a unit of length) would mislead a learner.
FUNCTION_WORDS = frozenset(
    """a an the this that these those i me my mine you your yours he him his she her hers it
    its we us our ours they them their theirs who whom whose which what and or but nor so
    if because although though while as than of in on at by for with from to into onto
    about over under between among through during before after since until up down off out
    am is are was were be been being do does did have has had will would shall should can
    could may might must not no""".split()
)

NEEDS_LLM = (
    "Parley explains phrases and grammar with its language model, which is not available "
    "right now; try again later, or look up the words one at a time."
)
GRAMMAR_WORD = (
    "“{text}” is a grammar word, which Parley's dictionary does not explain; its "
    "language model can, when it is available."
)
UNKNOWN = "Parley's dictionary does not know “{text}”; check the spelling."
NO_DICTIONARY = (
    "This server has no dictionary installed (WordNet), and its language model is not "
    "available right now; try again later."
)


def local_analysis(
    text: str, level: str | None, reason: str | None, *, wordnet_path: Path = DEFAULT_PATH
) -> TextAnalysis:
    """The local answer for `text` (already stripped); `reason` why it is local."""
    words = text.split()
    single = len(words) == 1 and _WORD.match(words[0]) is not None
    said = _pronunciation(words[0]) if single else None
    explanation: Explanation | None = None
    note: str | None = NEEDS_LLM
    if single and words[0].lower() in FUNCTION_WORDS:
        note = GRAMMAR_WORD.format(text=words[0])
    elif open_wordnet(wordnet_path) is None:
        note = NO_DICTIONARY
    elif len(words) <= 4:
        explanation = _from_dictionary(text, single, wordnet_path)
        if explanation is not None:
            note = None
        elif single:
            note = UNKNOWN.format(text=words[0])
    return TextAnalysis(
        text=text,
        level=level,
        source="local",
        model=LOCAL_MODEL,
        reason=reason,
        explanation=explanation,
        pronunciation=said,
        note=note,
    )


def _from_dictionary(text: str, single: bool, path: Path) -> Explanation | None:
    wordnet = open_wordnet(path)
    assert wordnet is not None  # checked by the caller
    senses = wordnet.senses(text)
    if not senses:
        return None
    examples = [e for s in senses for e in s.examples]
    lemma = senses[0].lemma
    summary = f"“{lemma}” ({senses[0].part_of_speech}): {senses[0].definition}."
    if lemma.lower() != text.lower():
        summary = f"“{text}” is a form of {summary}"
    return Explanation(
        kind="word" if single else "phrase",
        summary=summary[:400],
        definitions=[
            Definition(part_of_speech=s.part_of_speech, meaning=s.definition[:240]) for s in senses
        ],
        examples=[e[:200] for e in examples[:4]],
        common_mistakes=[],
    )


def _pronunciation(word: str) -> Pronunciation | None:
    found = lexicon.load().pronunciations(word)
    if not found:
        return None
    phones = found[0]
    return Pronunciation(arpabet=" ".join(phones), ipa="".join(ipa(p) for p in phones))
