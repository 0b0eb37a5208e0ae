"""The tutor dashboard: who may use it, whose learners it shows, and its figures."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from rest.schemas.sessions import encode_cursor
from tests.rest import seed
from tests.rest.conftest import Account, Api


@pytest.fixture
def w(api: Api) -> seed.World:
    return seed.world(api)


def learners(api: Api, who: Account, **params: Any) -> dict[str, Any]:
    got = api.client.get("/v1/tutor/learners", params=params, headers=who.headers)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def progress(api: Api, who: Account, learner: uuid.UUID, **params: Any) -> dict[str, Any]:
    url = f"/v1/tutor/learners/{learner}/progress"
    got = api.client.get(url, params=params, headers=who.headers)
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def test_refusals(api: Api, w: seed.World) -> None:
    urls = ["/v1/tutor/learners", f"/v1/tutor/learners/{w.ann.id}/progress"]
    for url in urls:
        assert api.client.get(url).status_code == 401
        assert api.client.get(url, headers=w.ann.headers).status_code == 403
    # Cat is only in course B: to course A's tutor she does not exist.
    outside = api.client.get(f"/v1/tutor/learners/{w.cat.id}/progress", headers=w.tutor.headers)
    assert outside.status_code == 404
    missing = f"/v1/tutor/learners/{uuid.UUID(int=7)}/progress"
    assert api.client.get(missing, headers=w.admin.headers).status_code == 404
    for params in ({"course_id": str(w.course_b)}, {"course_id": str(uuid.UUID(int=7))}):
        got = api.client.get("/v1/tutor/learners", params=params, headers=w.tutor.headers)
        assert got.status_code == 404
    nul = encode_cursor("A\x00", uuid.UUID(int=7).hex)  # would make PostgreSQL fail
    for params in ({"limit": "0"}, {"limit": "101"}, {"cursor": "nope"}, {"cursor": nul}):
        got = api.client.get("/v1/tutor/learners", params=params, headers=w.tutor.headers)
        assert got.status_code == 422
    bad = api.client.get(urls[1], params={"limit": "1001"}, headers=w.tutor.headers)
    assert bad.status_code == 422


def test_learner_list_counts_only_the_tutors_courses(api: Api, w: seed.World) -> None:
    page = learners(api, w.tutor)
    assert page["next_cursor"] is None
    ann, ben = page["items"]
    assert ann["learner"] == {"id": str(w.ann.id), "display_name": "Ann"}
    assert ann["session_count"] == 4
    assert ann["last_activity"] == "2024-05-01T17:00:00Z"
    # Current evaluations only: ann_1's superseded 60 does not count, nor does failed ann_2.
    assert ann["average"]["overall"] == pytest.approx((70 + 50 + 65) / 3)
    assert ann["average"]["accuracy"] == pytest.approx((75 + 55 + 70) / 3)
    assert ann["average"]["completeness"] == pytest.approx(100)
    # Ben's course-B session belongs to the other tutor's figures.
    assert (ben["learner"]["display_name"], ben["session_count"]) == ("Ben", 1)
    assert ben["average"]["overall"] == pytest.approx(80)

    everyone = learners(api, w.admin)["items"]
    assert [(i["learner"]["display_name"], i["session_count"]) for i in everyone] == [
        ("Ann", 4),
        ("Ben", 2),
        ("Cat", 1),
    ]
    assert everyone[1]["average"]["overall"] == pytest.approx(85)
    assert everyone[2]["average"] == dict.fromkeys(
        ("accuracy", "fluency", "completeness", "overall")
    )
    in_b = learners(api, w.admin, course_id=str(w.course_b))["items"]
    assert [(i["learner"]["display_name"], i["session_count"]) for i in in_b] == [
        ("Ben", 1),
        ("Cat", 1),
    ]


def test_learner_pages(api: Api, w: seed.World) -> None:
    names: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = learners(api, w.admin, **params)
        names += [i["learner"]["display_name"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == ["Ann", "Ben", "Cat"]


def test_progress_series_and_exercise_figures(api: Api, w: seed.World) -> None:
    got = progress(api, w.tutor, w.ann.id)
    assert got["learner"]["display_name"] == "Ann"
    series = [(p["session_id"], p["scores"]["overall"]) for p in got["series"]]
    assert series == [
        (str(w.ids["ann_1"]), 70),
        (str(w.ids["ann_3"]), 50),
        (str(w.ids["ann_4"]), 65),
    ]
    assert got["series"][0]["exercise"]["title"] == "Fox"
    fox, day = got["exercises"]
    assert fox["exercise"]["id"] == str(w.a1.id)
    assert (fox["attempts"], fox["scored"], fox["best_overall"], fox["latest_overall"]) == (
        3,
        3,
        70,
        65,
    )
    assert fox["average_overall"] == pytest.approx((70 + 50 + 65) / 3)
    assert fox["last_attempt_at"] == "2024-05-01T17:00:00Z"
    assert (day["exercise"]["kind"], day["attempts"], day["scored"]) == ("open_response", 1, 0)
    assert day["best_overall"] is day["latest_overall"] is day["average_overall"] is None

    latest_two = progress(api, w.tutor, w.ann.id, limit=2)["series"]
    assert [p["session_id"] for p in latest_two] == [str(w.ids["ann_3"]), str(w.ids["ann_4"])]
    since = progress(api, w.tutor, w.ann.id, since="2024-05-01T15:00:00Z")
    assert [e["attempts"] for e in since["exercises"]] == [2]

    # Ben's course-B session is visible to an admin but not in course A's tutor's view.
    assert [p["scores"]["overall"] for p in progress(api, w.tutor, w.ben.id)["series"]] == [80]
    assert [p["scores"]["overall"] for p in progress(api, w.admin, w.ben.id)["series"]] == [80, 90]
    only_b = progress(api, w.admin, w.ben.id, course_id=str(w.course_b))
    assert [e["exercise"]["title"] for e in only_b["exercises"]] == ["Weather"]
