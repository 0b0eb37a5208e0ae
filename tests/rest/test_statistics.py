"""Usage statistics through the real app, on seeded sessions whose figures are worked out
by hand below (SQLite and PostgreSQL alike), and their CSV export parsed back."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from storage import statistics
from storage.models import Role
from storage.statistics import Window
from tests.rest.conftest import Account, Api
from tests.rest.seed import course, exercise
from tests.rest.statistics_seed import MONDAY, WINDOW, practised, school

SCORES = ("accuracy", "fluency", "completeness", "overall")


def averages(overall: float | None) -> Any:
    if overall is None:
        return dict.fromkeys(SCORES)
    return pytest.approx(dict(zip(SCORES, (overall + 5, overall - 5, 100.0, overall), strict=True)))


def figures(
    sessions: int, completed: int, minutes: float, scored: int, overall: float | None
) -> dict[str, Any]:
    return {
        "sessions": sessions,
        "completed": completed,
        "minutes": pytest.approx(minutes),
        "scored": scored,
        "average": averages(overall),
    }


def slopes(value: float | None) -> dict[str, Any]:
    """One slope for accuracy, fluency and overall (they differ by constants); completeness
    is always 100, so its slope is 0."""
    if value is None:
        return dict.fromkeys(SCORES)
    same, flat = pytest.approx(value), pytest.approx(0, abs=1e-9)
    return {"accuracy": same, "fluency": same, "completeness": flat, "overall": same}


def get(api: Api, who: Account, path: str, **params: str) -> Any:
    answer = api.client.get(path, params={**WINDOW, **params}, headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


# Least-squares slopes of the overall score, x in days from MONDAY 00:00 (worked by hand):
# Ann (3/8, 60) (7/8, 70) (19/8, 80): mean x 29/24, Σdx² = 13/6, Σdx·dy = 20, slope 120/13.
# Ben (12/8, 50) (68/8, 90): slope 40/7.
# Course, all five: mean x 109/40, mean y 70, Σdx² = 43.91875, Σdx·dy = 160.
ANN_SLOPE, BEN_SLOPE, COURSE_SLOPE = 120 / 13, 40 / 7, 160 / 43.91875


def test_course_statistics_per_day(api: Api) -> None:
    s = school(api)
    found = get(api, s.tutor, f"/v1/courses/{s.course_id}/statistics", period="day")
    assert (found["course_id"], found["period"]) == (str(s.course_id), "day")
    assert (found["since"], found["until"]) == ("2025-03-03T00:00:00Z", "2025-03-12T00:00:00Z")
    assert found["summary"] == {
        **figures(7, 5, 9.0, 5, 70),
        "trend": slopes(COURSE_SLOPE),
        # x: Ann and Ben on time, Cat not; y: Ann on time, Ben late, Cat not.
        "due": {"due": 6, "completed": 3, "rate": 0.5},
    }
    empty = {**figures(0, 0, 0, 0, None), "learners": 0}
    assert found["buckets"] == [
        {"start": "2025-03-03", **figures(2, 2, 3.0, 2, 65), "learners": 1},
        {"start": "2025-03-04", **figures(1, 1, 3.0, 1, 50), "learners": 1},
        {"start": "2025-03-05", **figures(1, 1, 1.5, 1, 80), "learners": 1},
        {"start": "2025-03-06", **empty},
        {"start": "2025-03-07", **empty},
        {"start": "2025-03-08", **empty},
        {"start": "2025-03-09", **figures(1, 0, 0.0, 0, None), "learners": 1},
        {"start": "2025-03-10", **figures(1, 0, 0.5, 0, None), "learners": 1},
        {"start": "2025-03-11", **figures(1, 1, 1.0, 1, 90), "learners": 1},
    ]
    learners = {r["learner"]["display_name"]: r["summary"] for r in found["learners"]}
    assert list(learners) == ["Ann", "Ben", "Cat"]  # Dan teaches: not a learner
    assert learners["Ann"] == {
        **figures(4, 3, 5.0, 3, 70),
        "trend": slopes(ANN_SLOPE),
        "due": {"due": 2, "completed": 2, "rate": 1.0},
    }
    assert learners["Ben"] == {
        **figures(3, 2, 4.0, 2, 70),
        "trend": slopes(BEN_SLOPE),
        "due": {"due": 2, "completed": 1, "rate": 0.5},
    }
    assert learners["Cat"] == {
        **figures(0, 0, 0.0, 0, None),
        "trend": slopes(None),
        "due": {"due": 2, "completed": 0, "rate": 0.0},
    }


def test_weeks_start_on_monday_in_utc_and_the_window_cuts_its_ends(api: Api) -> None:
    s = school(api)
    url = f"/v1/courses/{s.course_id}/statistics"
    weeks = get(api, s.admin, url, period="week")["buckets"]
    # Ben's cancelled session was on Monday 10 March at 01:00+02:00: Sunday 9th in UTC.
    assert weeks == [
        {"start": "2025-03-03", **figures(5, 4, 7.5, 4, 65), "learners": 2},
        {"start": "2025-03-10", **figures(2, 1, 1.5, 1, 90), "learners": 2},
    ]
    # From Tuesday 12:00, Ben's session at that very instant is in; Ann's Monday ones are not.
    cut = get(api, s.tutor, url, period="week", since="2025-03-04T12:00:00Z")
    assert cut["buckets"][0] == {"start": "2025-03-03", **figures(3, 2, 4.5, 2, 65), "learners": 2}
    # Nothing in the range but Ann's single failed session: no average, no trend.
    alone = get(api, s.tutor, url, since="2025-03-10T00:00:00Z", until="2025-03-11T00:00:00Z")
    assert alone["summary"]["trend"] == slopes(None)
    assert alone["summary"]["due"] == {"due": 0, "completed": 0, "rate": None}


def test_one_learners_statistics(api: Api) -> None:
    s = school(api)
    url = f"/v1/courses/{s.course_id}/learners/{s.ben.id}/statistics"
    found = get(api, s.tutor, url, period="week")
    assert found["learner"] == {"id": str(s.ben.id), "display_name": "Ben"}
    assert found["summary"] == {
        **figures(3, 2, 4.0, 2, 70),
        "trend": slopes(BEN_SLOPE),
        "due": {"due": 2, "completed": 1, "rate": 0.5},
    }
    assert found["buckets"] == [
        {"start": "2025-03-03", **figures(2, 1, 3.0, 1, 50), "learners": 1},
        {"start": "2025-03-10", **figures(1, 1, 1.0, 1, 90), "learners": 1},
    ]
    cat = get(api, s.admin, f"/v1/courses/{s.course_id}/learners/{s.cat.id}/statistics")
    assert cat["summary"]["sessions"] == 0 and len(cat["buckets"]) == 9


def parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_export_parses_back_to_the_same_figures(api: Api) -> None:
    s = school(api)
    answer = api.client.get(
        f"/v1/courses/{s.course_id}/statistics.csv",
        params={**WINDOW, "period": "day"},
        headers=s.tutor.headers,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    rows = parse(answer.text)
    assert list(rows[0]) == [
        "learner_id",
        "learner",
        "period_start",
        "sessions",
        "completed",
        "minutes",
        "scored",
        "average_accuracy",
        "average_fluency",
        "average_completeness",
        "average_overall",
    ]
    table = [
        (
            r["learner"],
            r["period_start"],
            int(r["sessions"]),
            int(r["completed"]),
            float(r["minutes"]),
            int(r["scored"]),
            *(float(r[f"average_{n}"]) if r[f"average_{n}"] else None for n in SCORES),
        )
        for r in rows
    ]
    assert table == [
        ("Ann", "2025-03-03", 2, 2, 3.0, 2, 70.0, 60.0, 100.0, 65.0),
        ("Ann", "2025-03-05", 1, 1, 1.5, 1, 85.0, 75.0, 100.0, 80.0),
        ("Ann", "2025-03-10", 1, 0, 0.5, 0, None, None, None, None),
        ("Ben", "2025-03-04", 1, 1, 3.0, 1, 55.0, 45.0, 100.0, 50.0),
        ("Ben", "2025-03-09", 1, 0, 0.0, 0, None, None, None, None),
        ("Ben", "2025-03-11", 1, 1, 1.0, 1, 95.0, 85.0, 100.0, 90.0),
    ]
    assert {r["learner_id"] for r in rows} == {str(s.ann.id), str(s.ben.id)}

    ben = api.client.get(
        f"/v1/courses/{s.course_id}/learners/{s.ben.id}/statistics.csv",
        params={**WINDOW, "period": "week"},
        headers=s.admin.headers,
    )
    weeks = [(r["period_start"], r["sessions"], r["minutes"]) for r in parse(ben.text)]
    assert weeks == [("2025-03-03", "2", "3.0000"), ("2025-03-10", "1", "1.0000")]


def test_only_the_course_staff_read_statistics(api: Api) -> None:
    s = school(api)
    paths = [
        f"/v1/courses/{s.course_id}/statistics",
        f"/v1/courses/{s.course_id}/statistics.csv",
        f"/v1/courses/{s.course_id}/learners/{s.ann.id}/statistics",
        f"/v1/courses/{s.course_id}/learners/{s.ann.id}/statistics.csv",
    ]
    for path in paths:
        assert api.client.get(path, headers=s.ann.headers).status_code == 403
        refused = api.client.get(path, headers=s.other_tutor.headers)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "not_course_staff"
        assert api.client.get(path).status_code == 401
        assert api.client.get(path, headers=s.admin.headers).status_code == 200
    missing = uuid.UUID(int=0)
    gone = api.client.get(f"/v1/courses/{missing}/statistics", headers=s.admin.headers)
    assert gone.status_code == 404
    for stranger in (s.dan.id, missing):  # a tutor of the course; no one at all
        url = f"/v1/courses/{s.course_id}/learners/{stranger}/statistics"
        answer = api.client.get(url, headers=s.tutor.headers)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "learner_not_found"


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        ({"period": "month"}, "period"),
        ({"since": "2025-03-03T00:00:00"}, "timezone"),
        ({"since": "1741000000"}, "ISO 8601"),
        ({"since": "2025-03-12T00:00:00Z", "until": "2025-03-12T00:00:00Z"}, "earlier"),
        ({"since": "2024-01-01T00:00:00Z", "until": "2025-03-12T00:00:00Z"}, "more than 400"),
        ({"since": "1969-12-31T00:00:00Z"}, "1970"),
        ({"extra": "1"}, "extra"),
    ],
)
def test_bad_queries_are_422_naming_the_problem(
    api: Api, params: dict[str, str], hint: str
) -> None:
    tutor = api.account(Role.TUTOR)
    course_id = course(api, "Empty", tutors=[tutor], learners=[])
    for path in ("statistics", "statistics.csv"):
        answer = api.client.get(
            f"/v1/courses/{course_id}/{path}", params=params, headers=tutor.headers
        )
        assert answer.status_code == 422, params
        assert hint in str(answer.json()["error"]), answer.json()


def test_the_document_describes_every_new_field(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    course, learner = "/v1/courses/{course_id}", "/v1/courses/{course_id}/learners/{learner_id}"

    def answer(path: str, media: str = "application/json") -> dict[str, Any]:
        body = document["paths"][path]["get"]["responses"]["200"]["content"]
        schema: dict[str, Any] = body[media]["schema"]
        return schema

    described = [
        answer(f"{course}/statistics"),
        answer(f"{learner}/statistics"),
        *(
            schemas[name]
            for name in (
                "LearnerSummaryOut",
                "SummaryOut",
                "BucketOut",
                "AverageOut",
                "TrendOut",
                "DueCompletionOut",
                "DueExerciseOut",
                "LearnerDueOut",
            )
        ),
    ]
    assert answer(f"{course}/due")["items"] == {"$ref": "#/components/schemas/DueExerciseOut"}
    for schema in described:
        for field, spec in schema["properties"].items():
            assert spec.get("description"), f"{schema.get('title')}.{field}"
    for name in ("ExerciseOut", "ExerciseCreateIn", "ExerciseUpdateIn"):
        for field in ("available_from", "due_at"):
            assert "ISO 8601" in schemas[name]["properties"][field]["description"]
    for path in (f"{course}/statistics.csv", f"{learner}/statistics.csv"):
        assert "average_overall" in answer(path, "text/csv")["description"]


def test_buckets_are_utc_whatever_the_database_session_zone(api: Api, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has no session time zone")
    s = school(api)
    # 21:00 UTC on Monday is 02:30 on Tuesday in Kolkata: a local-time bucket would move it.
    zoned = create_async_engine(
        db_url, connect_args={"server_settings": {"timezone": "Asia/Kolkata"}}
    )
    window = Window("day", MONDAY, MONDAY + 9 * timedelta(days=1))

    async def days() -> list[tuple[str, int]]:
        try:
            async with AsyncSession(zoned) as db:
                found = await statistics.course(db, s.course_id, window, now=MONDAY)
        finally:
            await zoned.dispose()
        return [(b.start.isoformat(), b.totals.sessions) for b in found.buckets[:3]]

    assert api.run(days) == [("2025-03-03", 2), ("2025-03-04", 1), ("2025-03-05", 1)]


def test_a_name_like_a_formula_is_exported_as_text(api: Api) -> None:
    tutor, sly = api.account(Role.TUTOR), api.account(Role.LEARNER, "=HYPERLINK(1)")
    course_id = course(api, "Quoted", tutors=[tutor], learners=[sly])
    practised(api, sly, exercise(api, course_id, "e"), MONDAY, overall=(50,))
    answer = api.client.get(
        f"/v1/courses/{course_id}/statistics.csv", params=WINDOW, headers=tutor.headers
    )
    assert [r["learner"] for r in parse(answer.text)] == ["'=HYPERLINK(1)"]
