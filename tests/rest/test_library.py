"""The resource library through the real app on SQLite and PostgreSQL: who sees, adds,
changes and rates what; a learner saving a text analysis; the search's filters and
cursor pages; and a ranking that follows tutors' ratings, views and recent use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.library_models import Resource
from storage.models import Role
from tests.rest.conftest import Account, Api
from tests.rest.seed import course, run


@dataclass
class School:
    tess: Account  # teaches A
    olga: Account  # teaches B
    ann: Account  # learns in A
    ben: Account  # learns in A
    carl: Account  # learns in B
    admin: Account
    a: uuid.UUID
    b: uuid.UUID


@pytest.fixture
def school(api: Api) -> School:
    tess, olga = api.account(Role.TUTOR), api.account(Role.TUTOR)
    ann, ben, carl = (api.account(Role.LEARNER) for _ in range(3))
    a = course(api, "A", tutors=[tess], learners=[ann, ben])
    b = course(api, "B", tutors=[olga], learners=[carl])
    return School(tess, olga, ann, ben, carl, api.account(Role.ADMIN), a, b)


def add(api: Api, who: Account, **fields: Any) -> Any:
    body = {"kind": "vocabulary", "text": "ship"} | fields
    return api.client.post("/v1/resources", json=body, headers=who.headers)


def made(api: Api, who: Account, **fields: Any) -> dict[str, Any]:
    created = add(api, who, **fields)
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def texts(api: Api, who: Account, query: str = "") -> list[str]:
    found = api.client.get(f"/v1/resources{query}", headers=who.headers)
    assert found.status_code == 200, found.text
    return [r["text"] for r in found.json()["items"]]


def test_staff_share_with_a_course_and_learners_keep_their_own(api: Api, school: School) -> None:
    s = school
    shared = made(api, s.tess, text="harbour", course_id=str(s.a), level="B1")
    assert shared["shared"] is True and shared["owner_id"] == str(s.tess.id)
    school_wide = made(api, s.admin, text="anchor")
    own = made(api, s.ann, text="sail", course_id=str(s.a))
    assert own["shared"] is False
    assert sorted(texts(api, s.ann)) == ["anchor", "harbour", "sail"]
    assert sorted(texts(api, s.ben)) == ["anchor", "harbour"]  # ann's own stays hers
    assert texts(api, s.carl) == ["anchor"]  # another course's resources are not shown
    url = f"/v1/resources/{shared['id']}"
    assert api.client.get(url, headers=s.carl.headers).status_code == 404
    assert api.client.get(f"/v1/resources/{own['id']}", headers=s.tess.headers).status_code == 404
    assert (
        api.client.get(f"/v1/resources/{school_wide['id']}", headers=s.carl.headers).json()["text"]
        == "anchor"
    )
    # A tutor shares within a course they teach, and only there.
    assert add(api, s.tess).json()["error"]["code"] == "course_required"
    assert add(api, s.tess, course_id=str(s.b)).json()["error"]["code"] == "not_course_staff"
    assert add(api, s.carl, course_id=str(s.a)).json()["error"]["code"] == "not_enrolled"
    assert add(api, s.ann, course_id=str(uuid.uuid4())).status_code == 404


def test_bad_resources_are_refused_with_the_reason(api: Api, school: School) -> None:
    for fields in (
        {"kind": "idiom"},
        {"text": ""},
        {"text": "x" * 301},
        {"level": "B3"},
        {"examples": ["fine", 3]},
        {"examples": [""]},
        {"views": 1000},
        {"kind": None},
    ):
        refused = add(api, school.ann, **fields)
        assert refused.status_code == 422, fields
    assert (
        api.client.post("/v1/resources", json={"text": "ship"}, headers=school.ann.headers)
        .json()["error"]["details"]["errors"][0]["msg"]
        .endswith("give kind and text, or analysis_id")
    )


def test_a_learner_saves_a_text_analysis(api: Api, school: School) -> None:
    analysed = api.client.post(
        "/v1/text/analyse", json={"text": "think", "level": "A2"}, headers=school.ann.headers
    ).json()
    saved = api.client.post(
        "/v1/resources", json={"analysis_id": analysed["analysis_id"]}, headers=school.ann.headers
    ).json()
    assert saved["text"] == "think" and saved["kind"] == "vocabulary" and saved["level"] == "A2"
    assert saved["analysis_id"] == analysed["analysis_id"] and saved["shared"] is False
    assert analysed["explanation"]["summary"] in saved["explanation"]
    assert "(verb) expect, believe, or suppose" in saved["explanation"]
    assert saved["examples"] == analysed["explanation"]["examples"]
    # Fields given beside the analysis win over it.
    mine = made(api, school.ann, analysis_id=analysed["analysis_id"], kind="phrase", level="B1")
    assert mine["level"] == "B1" and mine["kind"] == "phrase" and mine["text"] == "ship"
    missing = add(api, school.ann, analysis_id=str(uuid.uuid4()))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "analysis_not_found"


def test_search_filters_and_pages(api: Api, school: School) -> None:
    s = school
    for text, kind, level in [
        ("100% sure", "phrase", "B1"),
        ("present perfect", "grammar", "B1"),
        ("Harbour", "vocabulary", "A2"),
        ("harbour master", "vocabulary", "B1"),
        ("quay", "vocabulary", None),
    ]:
        made(api, s.tess, text=text, kind=kind, level=level, course_id=str(s.a))
    made(api, s.ann, text="my harbour note", course_id=str(s.a))
    assert sorted(texts(api, s.ann, "?kind=vocabulary&level=B1")) == ["harbour master"]
    assert sorted(texts(api, s.ann, "?text=HARBOUR")) == [
        "Harbour",
        "harbour master",
        "my harbour note",
    ]
    assert texts(api, s.ann, "?text=%25") == ["100% sure"]  # a literal %, not a wildcard
    assert texts(api, s.ann, "?mine=true") == ["my harbour note"]
    assert texts(api, s.carl, f"?course_id={s.a}") == []
    for sort in ("newest", "rank"):
        seen: list[str] = []
        query = f"?sort={sort}&limit=2"
        while True:
            page = api.client.get(f"/v1/resources{query}", headers=s.ann.headers).json()
            assert len(page["items"]) <= 2
            seen += [r["text"] for r in page["items"]]
            if page["next_cursor"] is None:
                break
            query = f"?sort={sort}&limit=2&cursor={page['next_cursor']}"
        assert len(seen) == 6 and len(set(seen)) == 6, sort
        if sort == "newest":
            assert seen[0] == "my harbour note" and seen[-1] == "100% sure"
    first = api.client.get("/v1/resources?sort=newest&limit=1", headers=s.ann.headers).json()
    wrong = api.client.get(
        f"/v1/resources?sort=rank&cursor={first['next_cursor']}", headers=s.ann.headers
    )
    assert wrong.status_code == 422
    assert api.client.get("/v1/resources?cursor=abc", headers=s.ann.headers).status_code == 422
    assert api.client.get("/v1/resources?limit=0", headers=s.ann.headers).status_code == 422


def rated(api: Api, who: Account, resource_id: str, stars: Any) -> Any:
    return api.client.put(
        f"/v1/resources/{resource_id}/rating", json={"stars": stars}, headers=who.headers
    )


def test_ratings_views_and_recent_use_rank_the_library(api: Api, school: School) -> None:
    s = school
    second_tutor = api.account(Role.TUTOR)
    run(api, lambda db: _enrol_tutor(db, s.a, second_tutor.id))
    good, plain, stale = (
        made(api, s.tess, text=t, course_id=str(s.a))["id"] for t in ("good", "plain", "stale")
    )
    assert rated(api, s.tess, good, 5).status_code == 201
    again = rated(api, s.tess, good, 4)
    assert again.status_code == 200 and again.json()["resource"]["rating_count"] == 1
    assert rated(api, second_tutor, good, 5).json()["resource"]["rating_mean"] == 4.5
    # Views count once per person a day.
    for who in (s.ann, s.ann, s.ben):
        assert api.client.get(f"/v1/resources/{plain}", headers=who.headers).status_code == 200
    opened = api.client.get(f"/v1/resources/{plain}", headers=s.tess.headers).json()
    assert opened["views"] == 3
    run(api, lambda db: _last_used(db, stale, days_ago=28))
    page = api.client.get("/v1/resources", headers=s.ann.headers).json()["items"]
    assert [r["text"] for r in page] == ["good", "plain", "stale"]
    ranks = {r["text"]: r["rank"] for r in page}
    # By the documented formula: stars (sum + 6) / (count + 2) over 5 weighted 0.5, recency
    # halving every 14 days weighted 0.3, views / (views + 20) weighted 0.2.
    assert ranks["good"] == pytest.approx(0.5 * (9 + 6) / 4 / 5 + 0.3, abs=2e-3)
    assert ranks["plain"] == pytest.approx(0.5 * 3 / 5 + 0.3 + 0.2 * 3 / 23, abs=2e-3)
    assert ranks["stale"] == pytest.approx(0.5 * 3 / 5 + 0.3 * 14 / 42, abs=2e-3)


async def _enrol_tutor(db: AsyncSession, course_id: uuid.UUID, user_id: uuid.UUID) -> None:
    from storage.models import Enrolment

    db.add(Enrolment(course_id=course_id, user_id=user_id, role="tutor"))


async def _last_used(db: AsyncSession, resource_id: str, *, days_ago: float) -> None:
    row = await db.get(Resource, uuid.UUID(resource_id))
    assert row is not None
    await db.execute(
        update(Resource)
        .where(Resource.id == row.id)
        .values(last_used_s=row.last_used_s - days_ago * 86400)
    )


def test_who_may_rate(api: Api, school: School) -> None:
    s = school
    shared = made(api, s.tess, text="bow", course_id=str(s.a))["id"]
    own = made(api, s.ann, text="stern")["id"]
    assert rated(api, s.ann, shared, 5).status_code == 403  # learners do not rate
    assert rated(api, s.olga, shared, 5).status_code == 404  # not her course: not seen
    assert rated(api, s.admin, shared, 2).status_code == 201
    refused = rated(api, s.admin, own, 4)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "resource_not_shared"
    for stars in (0, 6, "5", 4.5, None):
        assert rated(api, s.tess, shared, stars).status_code == 422, stars


def test_authors_and_course_staff_change_and_delete(api: Api, school: School) -> None:
    s = school
    shared = made(api, s.admin, text="keel", course_id=str(s.a), level="B2")
    url = f"/v1/resources/{shared['id']}"
    changed = api.client.patch(
        url, json={"level": None, "examples": ["a keel"]}, headers=s.tess.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["level"] is None and changed.json()["examples"] == ["a keel"]
    assert api.client.patch(url, json={"text": None}, headers=s.tess.headers).status_code == 422
    assert api.client.patch(url, json={"text": "k"}, headers=s.ann.headers).status_code == 403
    assert api.client.delete(url, headers=s.carl.headers).status_code == 404
    assert api.client.delete(url, headers=s.ann.headers).status_code == 403
    own = made(api, s.ann, text="mast")
    mine = f"/v1/resources/{own['id']}"
    assert (
        api.client.patch(mine, json={"kind": "phrase"}, headers=s.ann.headers).json()["kind"]
        == "phrase"
    )
    assert api.client.delete(mine, headers=s.ann.headers).status_code == 204
    assert api.client.get(mine, headers=s.ann.headers).status_code == 404
    assert api.client.delete(url, headers=s.tess.headers).status_code == 204
