"""Session history, detail, audio and feedback: who may see what, paging, filters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from storage.models import Role
from tests.rest import seed
from tests.rest.conftest import SECRET, Account, Api

MISSING = uuid.UUID(int=1)


@pytest.fixture
def w(api: Api) -> seed.World:
    return seed.world(api)


def listed(api: Api, who: Account, **params: Any) -> list[str]:
    got = api.client.get("/v1/sessions", params=params, headers=who.headers)
    assert got.status_code == 200, got.text
    return [item["id"] for item in got.json()["items"]]


def ids(w: seed.World, *names: str) -> list[str]:
    return [str(w.ids[n]) for n in names]


def token(who: Account, **claims: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    base = {
        "iss": "parley",
        "aud": "parley-api",
        "sub": str(who.id),
        "role": who.role.value,
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    return {"Authorization": f"Bearer {jwt.encode(base | claims, SECRET, algorithm='HS256')}"}


def test_tokens_are_required_and_checked(api: Api, w: seed.World) -> None:
    detail = f"/v1/sessions/{w.ids['ann_1']}"
    past = datetime.now(UTC) - timedelta(hours=1)
    cases = {
        "missing_token": {},
        "token_expired": token(w.ann, iat=past - timedelta(minutes=5), exp=past),
        "invalid_token": token(w.ann, aud="someone-else"),
    }
    for code, headers in cases.items():
        for url in ("/v1/sessions", detail, f"{detail}/audio"):
            got = api.client.get(url, headers=headers)
            assert got.status_code == 401, (code, url)
            assert got.json()["error"]["code"] == code
    assert api.client.get("/v1/sessions", headers=token(w.ann)).status_code == 200


def test_learner_sees_only_their_own(api: Api, w: seed.World) -> None:
    assert listed(api, w.ann) == ids(w, "ann_4", "ann_3", "ann_2", "ann_1")
    # Filtering on someone else is not a way in: the filter only narrows.
    assert listed(api, w.ann, learner_id=str(w.ben.id)) == []
    hidden = api.client.get(f"/v1/sessions/{w.ids['ben_1']}", headers=w.ann.headers)
    absent = api.client.get(f"/v1/sessions/{MISSING}", headers=w.ann.headers)
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == absent.json()  # nothing tells "not yours" from "not there"
    audio = api.client.get(f"/v1/sessions/{w.ids['ann_1']}/audio", headers=w.ben.headers)
    assert audio.status_code == 404


def test_tutor_sees_only_their_courses(api: Api, w: seed.World) -> None:
    assert listed(api, w.tutor) == ids(w, "ann_4", "ann_3", "ben_1", "ann_2", "ann_1")
    # Ben is in both courses; his course-B session stays with course B's tutor.
    assert listed(api, w.other_tutor) == ids(w, "cat_1", "ben_2")
    for name in ("ben_2", "cat_1"):
        got = api.client.get(f"/v1/sessions/{w.ids[name]}", headers=w.tutor.headers)
        assert got.status_code == 404
    assert len(listed(api, w.admin)) == 7


def test_filters_and_bad_queries(api: Api, w: seed.World) -> None:
    a = w.admin
    assert listed(api, a, course_id=w.course_b) == ids(w, "cat_1", "ben_2")
    assert listed(api, a, exercise_id=w.a2.id) == ids(w, "ann_2")
    assert listed(api, a, learner_id=w.ben.id) == ids(w, "ben_2", "ben_1")
    assert listed(api, a, status="active") == ids(w, "cat_1")
    window = {"since": "2024-05-01T13:00:00Z", "until": "2024-05-01T17:00:00+02:00"}
    assert listed(api, a, **window) == ids(w, "ben_2", "ben_1")
    assert listed(api, w.tutor, course_id=w.course_a, learner_id=w.ben.id) == ids(w, "ben_1")

    bad = [
        {"limit": "0"},
        {"limit": "101"},
        {"status": "paused"},
        {"course_id": "not-a-uuid"},
        {"since": "2024-05-01T13:00:00"},  # no offset: ambiguous
        {"since": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
        {"since": "2024-05-02T00:00:00Z", "until": "2024-05-01T00:00:00Z"},
        {"cursor": "%%%"},
        {"cursor": "bm90IGpzb24"},
        {"cursor": "x" * 600},
    ]
    for params in bad:
        got = api.client.get("/v1/sessions", params=params, headers=a.headers)
        assert got.status_code == 422, (params, got.text)
    message = api.client.get("/v1/sessions?cursor=abc", headers=a.headers).json()["error"]
    assert "malformed cursor" in message["details"]["errors"][0]["msg"]


def test_pages_cover_every_session_once(api: Api, w: seed.World) -> None:
    dan = api.account(Role.LEARNER, "Dan")
    # Groups of three share a start time, so the id must break ties between pages.
    starts = [seed.T0 + timedelta(minutes=i // 3) for i in range(23)]
    made = seed.many_sessions(api, dan, w.a1, starts)
    expected = [str(i) for _, i in sorted(zip(starts, made, strict=True), reverse=True)]
    for who, params in ((dan, {}), (w.admin, {"learner_id": str(dan.id)})):
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            page = api.client.get(
                "/v1/sessions",
                params={**params, "limit": 5, **({"cursor": cursor} if cursor else {})},
                headers=who.headers,
            ).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected


def test_detail_has_transcript_evaluations_and_feedback(api: Api, w: seed.World) -> None:
    url = f"/v1/sessions/{w.ids['ann_1']}"
    item = api.client.get("/v1/sessions", params={"limit": 1}, headers=w.ann.headers)
    assert item.json()["items"][0]["scores"] == {
        "accuracy": 70.0,
        "fluency": 60.0,
        "completeness": 100.0,
        "overall": 65.0,
    }
    first = api.client.post(url + "/feedback", json={"rating": 3}, headers=w.tutor.headers)
    assert first.status_code == 201, first.text
    again = api.client.post(
        url + "/feedback", json={"rating": 5, "comment": "Much better!"}, headers=w.tutor.headers
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    by_admin = api.client.post(url + "/feedback", json={"rating": 4}, headers=w.admin.headers)
    assert by_admin.status_code == 201

    got = api.client.get(url, headers=w.ann.headers).json()
    assert got["learner"] == {"id": str(w.ann.id), "display_name": "Ann"}
    assert got["exercise"] == {"id": str(w.a1.id), "title": "Fox", "kind": "read_aloud"}
    assert got["transcript"]["text"] == "the quick fox"
    assert [word["word"] for word in got["transcript"]["words"]] == ["the", "quick", "fox"]
    assert got["evaluation"]["version"] == 2 and got["evaluation"]["overall"] == 70.0
    assert got["scores"]["overall"] == 70.0
    versions = [(e["version"], e["is_current"], e["overall"]) for e in got["evaluations"]]
    assert versions == [(2, True, 70.0), (1, False, 60.0)]
    assert got["evaluations"][1]["details"] == {"words": [], "feedback": "version 1"}
    feedback = [(f["tutor"]["display_name"], f["rating"], f["comment"]) for f in got["feedback"]]
    assert feedback == [("Tess", 5, "Much better!"), ("Admin", 4, "")]
    assert got["playback_url"] == f"/v1/sessions/{w.ids['ann_1']}/audio"
    assert got["started_at"] == "2024-05-01T11:00:00Z"

    bare = api.client.get(f"/v1/sessions/{w.ids['ann_2']}", headers=w.tutor.headers).json()
    assert bare["transcript"] is bare["evaluation"] is bare["playback_url"] is None
    assert bare["evaluations"] == bare["feedback"] == [] and bare["status"] == "failed"


def test_audio_is_served_to_whoever_may_see_it(api: Api, w: seed.World) -> None:
    url = f"/v1/sessions/{w.ids['ann_1']}/audio"
    for who in (w.ann, w.tutor, w.admin):
        got = api.client.get(url, headers=who.headers)
        assert got.status_code == 200
        assert got.headers["content-type"] == "audio/wav" and got.content == seed.WAV
    for who in (w.ben, w.other_tutor):
        assert api.client.get(url, headers=who.headers).status_code == 404
    silent = api.client.get(f"/v1/sessions/{w.ids['ann_2']}/audio", headers=w.ann.headers)
    assert silent.status_code == 404 and silent.json()["error"]["code"] == "no_audio"


def test_feedback_refusals(api: Api, w: seed.World) -> None:
    url = f"/v1/sessions/{w.ids['ann_1']}/feedback"
    learner = api.client.post(url, json={"rating": 5}, headers=w.ann.headers)
    assert learner.status_code == 403
    outsider = api.client.post(url, json={"rating": 5}, headers=w.other_tutor.headers)
    assert outsider.status_code == 404
    missing = f"/v1/sessions/{MISSING}/feedback"
    assert api.client.post(missing, json={"rating": 5}, headers=w.tutor.headers).status_code == 404
    for body in (
        {"rating": 0},
        {"rating": 6},
        {"rating": "5"},
        {"rating": True},
        {"rating": 2.5},
        {},
        {"rating": 3, "comment": "x" * 2001},
        {"rating": 3, "comment": "a\x00b"},  # PostgreSQL text cannot hold NUL
        {"rating": 3, "tutor_id": str(w.other_tutor.id)},
    ):
        got = api.client.post(url, json=body, headers=w.tutor.headers)
        assert got.status_code == 422, body
    not_json = api.client.post(url, content=b"{", headers=w.tutor.headers)
    assert not_json.status_code == 400
    assert (
        api.client.get(url.removesuffix("/feedback"), headers=w.ann.headers).json()["feedback"]
        == []
    )
