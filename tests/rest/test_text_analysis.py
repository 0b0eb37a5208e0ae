"""`POST /v1/text/analyse` through the real app on SQLite and PostgreSQL, with no LLM
configured: Parley's own dictionary answers single words (and the expressions WordNet
lists), says plainly what it cannot explain, keeps every answer, and is rate-limited.
The answers from a real LLM: tests/rest/test_text_analysis_llm.py."""

from __future__ import annotations

from typing import Any

from storage.models import Role
from tests.rest.conftest import Account, Api


def analyse(api: Api, who: Account, body: Any) -> Any:
    return api.client.post("/v1/text/analyse", json=body, headers=who.headers)


def test_a_word_gets_its_meanings_examples_and_pronunciation(api: Api) -> None:
    ann = api.account(Role.LEARNER)
    answer = analyse(api, ann, {"text": "think", "level": "A2"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["source"] == "local" and found["reason"] == "not_configured"
    assert found["model"] == "wordnet-3.0" and found["cached"] is False
    explained = found["explanation"]
    # "think" is mostly a verb: its verb senses come first, not WordNet's one noun sense.
    assert explained["kind"] == "word" and explained["definitions"][0]["part_of_speech"] == "verb"
    assert any("suppose" in d["meaning"] for d in explained["definitions"])
    assert "I think he is very smart" in explained["examples"]
    assert explained["common_mistakes"] == []  # never made up without the LLM
    assert found["pronunciation"] == {"arpabet": "TH IH1 NG K", "ipa": "\u03b8\u026a\u014bk"}
    assert found["note"] is None


def test_an_inflected_form_is_explained_under_its_lemma(api: Api) -> None:
    found = analyse(api, api.account(Role.LEARNER), {"text": "mice"}).json()
    assert found["explanation"]["summary"].startswith("“mice” is a form of “mouse” (noun)")
    went = analyse(api, api.account(Role.LEARNER), {"text": "went"}).json()
    assert went["explanation"]["definitions"][0]["part_of_speech"] == "verb"
    assert "“go”" in went["explanation"]["summary"]
    phrasal = analyse(api, api.account(Role.LEARNER), {"text": "look  up"}).json()
    assert phrasal["text"] == "look up" and phrasal["explanation"]["kind"] == "phrase"


def test_what_the_dictionary_cannot_explain_is_said_plainly(api: Api) -> None:
    ann = api.account(Role.LEARNER)
    grammar = analyse(api, ann, {"text": "the present perfect with since"}).json()
    assert grammar["explanation"] is None and grammar["pronunciation"] is None
    assert "language model" in grammar["note"] and "not available" in grammar["note"]
    article = analyse(api, ann, {"text": "the"}).json()
    assert article["explanation"] is None and "grammar word" in article["note"]
    assert article["pronunciation"]["ipa"] == "ðə"
    unknown = analyse(api, ann, {"text": "flibbertyjib"}).json()
    assert unknown["explanation"] is None and "does not know" in unknown["note"]


def test_an_answer_is_kept_and_served_again_per_text_and_level(api: Api) -> None:
    ann, ben = api.account(Role.LEARNER), api.account(Role.LEARNER)
    first = analyse(api, ann, {"text": "ship", "level": "B1"}).json()
    again = analyse(api, ben, {"text": "  ship ", "level": "B1"}).json()
    assert again["cached"] is True and again["analysis_id"] == first["analysis_id"]
    assert again["explanation"] == first["explanation"]
    other_level = analyse(api, ann, {"text": "ship", "level": "C1"}).json()
    assert other_level["cached"] is False and other_level["analysis_id"] != first["analysis_id"]


def test_bad_requests_are_refused_with_the_reason(api: Api) -> None:
    ann = api.account(Role.LEARNER)
    for body in (
        {"text": ""},
        {"text": "x" * 301},
        {"text": "ship", "level": "D1"},
        {"text": 5},
        {"text": "ship", "tone": "formal"},
        {},
    ):
        refused = analyse(api, ann, body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["code"] == "invalid_input"
    assert api.client.post("/v1/text/analyse", json={"text": "ship"}).status_code == 401


def test_analyses_are_rate_limited_per_user(api: Api) -> None:
    api.state.settings.limits.text_analyses_per_user = "3/hour"
    ann, ben = api.account(Role.LEARNER), api.account(Role.LEARNER)
    assert [analyse(api, ann, {"text": w}).status_code for w in ("a", "b", "c")] == [200] * 3
    refused = analyse(api, ann, {"text": "ship"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert analyse(api, ben, {"text": "ship"}).status_code == 200
