"""Where a reference text marks a phrase boundary, word by word, from its punctuation."""

from __future__ import annotations

# Punctuation that ends a clause or a sentence: a reader is expected to mark it.
CLAUSE_END = frozenset(",;:.?!")
SENTENCE_END = frozenset(";:.?!")
# Punctuation a reader may pause at without being wrong (but need not).
# (em and en dash, ellipsis, brackets, double quotes straight and curly)
_MAY_PAUSE = CLAUSE_END | frozenset('\u2014\u2013\u2026()[]"\u201c\u201d')


def after_each_word(reference: str) -> list[str]:
    """For each word of `reference` as `speech.text.source_words` splits it, the
    punctuation between it and the next word: its own trailing marks, any punctuation-only
    tokens after it and the next word's leading marks ("words, (like" gives ",(")."""
    marks: list[str] = []
    pending = ""  # punctuation seen before the next word (leading marks, lone tokens)
    for token in reference.split():
        if not any(c.isalnum() for c in token):
            pending += token
            continue
        first = next(k for k, c in enumerate(token) if c.isalnum())
        last = max(k for k, c in enumerate(token) if c.isalnum())
        if marks:
            marks[-1] += pending + token[:first]
        pending = ""
        marks.append(token[last + 1 :])
    if marks:
        marks[-1] += pending
    return marks


def may_pause(marks: str) -> bool:
    return any(c in _MAY_PAUSE for c in marks)


def clause_end(marks: str) -> bool:
    return any(c in CLAUSE_END for c in marks)


def sentence_end(marks: str) -> bool:
    return any(c in SENTENCE_END for c in marks)
