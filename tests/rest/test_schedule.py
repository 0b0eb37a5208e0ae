"""Scheduled exercises through the real app: dates set and validated, hidden from learners
until they open (to the second), refused by the practice socket, and what is due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from storage import courses, practice
from storage.access import Principal
from storage.errors import PermissionDenied
from storage.models import Exercise, Role, SessionStatus
from tests.rest.conftest import Account, Api
from tests.rest.seed import course, exercise, run, session
from tests.rest.test_courses import new_course
from tests.rest.test_exercises import new_exercise


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


OPENS = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
DUE = datetime(2031, 3, 10, 17, 0, tzinfo=UTC)
S = timedelta(seconds=1)
HOUR = timedelta(hours=1)
READ = {"kind": "read_aloud", "title": "Greetings", "reference_text": "Hola, buenos días."}


def h(who: Account) -> dict[str, Any]:
    return {"headers": who.headers}


def test_dates_are_set_edited_and_validated(api: Api) -> None:
    tutor = api.account(Role.TUTOR)
    course_id = new_course(api, tutor)["id"]
    made = new_exercise(
        api, tutor, course_id, available_from="2031-03-03T10:00:00+01:00", due_at=iso(DUE)
    )
    assert (made["available_from"], made["due_at"]) == (iso(OPENS), iso(DUE))
    url = f"/v1/courses/{course_id}/exercises"
    for dates, hint in (
        ({"available_from": iso(DUE), "due_at": iso(OPENS)}, "later than available_from"),
        ({"available_from": iso(OPENS), "due_at": iso(OPENS)}, "later than available_from"),
        ({"due_at": "2031-03-10T17:00:00"}, "timezone"),  # no offset: which 17:00?
        ({"due_at": 1930000000}, "ISO 8601"),  # a number is not coerced
        ({"due_at": "next monday"}, "ISO 8601"),
    ):
        refused = api.client.post(url, json={**READ, **dates}, headers=tutor.headers)
        assert refused.status_code == 422, dates
        assert hint in str(refused.json()["error"]["details"]), refused.json()

    one = f"/v1/exercises/{made['id']}"
    early = api.client.patch(one, json={"due_at": iso(OPENS - timedelta(days=1))}, **h(tutor))
    assert early.status_code == 422 and early.json()["error"]["code"] == "schedule_order"
    assert api.client.get(one, **h(tutor)).json()["due_at"] == iso(DUE)  # unchanged
    moved = api.client.patch(one, json={"available_from": None}, **h(tutor))
    assert moved.status_code == 200
    assert (moved.json()["available_from"], moved.json()["due_at"]) == (None, iso(DUE))
    cleared = api.client.patch(one, json={"due_at": None}, **h(tutor)).json()
    assert cleared["due_at"] is None


def test_learners_see_only_what_is_open_and_staff_see_everything(api: Api) -> None:
    tutor, learner, admin = (api.account(r) for r in (Role.TUTOR, Role.LEARNER, Role.ADMIN))
    other_tutor = api.account(Role.TUTOR)
    course_id = new_course(api, tutor, status="published")["id"]
    now = datetime.now(UTC)
    opened = new_exercise(api, tutor, course_id, title="Open", available_from=iso(now - S))
    later = new_exercise(api, tutor, course_id, title="Later", available_from=iso(now + HOUR))
    always = new_exercise(api, tutor, course_id, title="Always", due_at=iso(now + HOUR))
    url = f"/v1/courses/{course_id}/exercises"

    for who in (learner, other_tutor):  # not its staff: a tutor of another course
        shown = api.client.get(url, **h(who)).json()
        assert [e["title"] for e in shown] == ["Open", "Always"]
        assert shown[1]["due_at"] == always["due_at"]
        refused = api.client.get(f"/v1/exercises/{later['id']}", **h(who))
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "exercise_not_available"
        assert error["details"]["available_from"] == later["available_from"]
        assert later["available_from"] in error["message"]
    for who in (tutor, admin):
        assert [e["title"] for e in api.client.get(url, **h(who)).json()] == [
            "Open",
            "Later",
            "Always",
        ]
        assert api.client.get(f"/v1/exercises/{later['id']}", **h(who)).json() == later
    assert api.client.get(f"/v1/exercises/{opened['id']}", **h(learner)).json() == opened


def scheduled(api: Api, course_id: uuid.UUID, opens: datetime) -> uuid.UUID:
    ref = exercise(api, course_id, "Scheduled")

    async def set_date(db: Any) -> None:
        row = await db.get(Exercise, ref.id)
        row.available_from = opens

    run(api, set_date)
    return ref.id


def test_an_exercise_opens_at_its_second(api: Api) -> None:
    """Learners' list and the practice lookup, a second before, at, and a second after."""
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course_id = course(api, "Timed", tutors=[tutor], learners=[learner])
    exercise_id = scheduled(api, course_id, OPENS)
    as_learner = Principal(learner.id, Role.LEARNER)

    async def listed(now: datetime) -> list[uuid.UUID]:
        async with api.state.sessions() as db:
            found = await courses.exercises(
                db, course_id, include_archived=False, limit=10, offset=0, open_at=now
            )
            return [e.id for e in found]

    async def start(now: datetime, who: Principal = as_learner) -> uuid.UUID:
        async with api.state.sessions() as db:
            return (await practice.exercise_for(db, exercise_id, who, now=now)).id

    assert api.run(listed, OPENS - S) == []
    with pytest.raises(PermissionDenied) as refused:
        api.run(start, OPENS - S)
    assert refused.value.code == "exercise_not_available"
    assert refused.value.message == "this exercise opens at 2031-03-03T09:00:00Z"
    for now in (OPENS, OPENS + S):
        assert api.run(listed, now) == [exercise_id]
        assert api.run(start, now) == exercise_id
    # The course's tutor tries it out before it opens.
    assert api.run(start, OPENS - S, Principal(tutor.id, Role.TUTOR)) == exercise_id


def test_the_database_refuses_a_due_date_before_the_opening(api: Api) -> None:
    tutor = api.account(Role.TUTOR)
    course_id = course(api, "Checked", tutors=[tutor], learners=[])
    exercise_id = scheduled(api, course_id, OPENS)

    async def set_due(db: Any) -> None:
        row = await db.get(Exercise, exercise_id)
        row.due_at = OPENS

    with pytest.raises(IntegrityError, match=r"(?i)check"):
        run(api, set_due)


def test_the_practice_socket_refuses_an_exercise_not_yet_open(api: Api) -> None:
    tutor, learner = api.account(Role.TUTOR), api.account(Role.LEARNER)
    course_id = course(api, "Socket", tutors=[tutor], learners=[learner])
    exercise_id = scheduled(api, course_id, OPENS)
    url = f"/v1/ws/practice?access_token={learner.token}"
    with api.client.websocket_connect(url) as ws:
        ws.send_json({"type": "start", "exercise_id": str(exercise_id)})
        error = ws.receive_json()
        assert error == {
            "type": "error",
            "code": "exercise_not_available",
            "message": "this exercise opens at 2031-03-03T09:00:00Z",
            "fatal": False,
        }
        ws.send_json({"type": "ping", "id": "still-open"})  # not fatal: the socket goes on
        assert ws.receive_json() == {"type": "pong", "id": "still-open"}


def test_what_is_due_and_who_did_it(api: Api) -> None:
    tutor, other, admin = (api.account(r) for r in (Role.TUTOR, Role.TUTOR, Role.ADMIN))
    ann, ben, cat = (api.account(Role.LEARNER, n) for n in ("Ann", "Ben", "Cat"))
    course_id = course(api, "Due", tutors=[tutor], learners=[ann, ben, cat])
    first = exercise(api, course_id, "First")
    second = exercise(api, course_id, "Second")
    exercise(api, course_id, "Undated")
    for ref, due in ((first, DUE), (second, DUE + timedelta(days=7))):
        api.client.patch(f"/v1/exercises/{ref.id}", json={"due_at": iso(due)}, **h(tutor))
    # A session ends 9 s after it starts (seed.session): Ann's ends exactly at the deadline.
    session(api, ann, first, DUE - 9 * S, overall=(70,))
    session(api, ben, first, DUE - 8 * S, overall=(70,))  # ends a second late
    session(api, ben, first, DUE + HOUR, overall=(80,))  # a later one changes nothing
    session(api, cat, first, DUE - HOUR, status=SessionStatus.FAILED)  # failed: not done
    session(api, cat, second, DUE, overall=(60,))

    url = f"/v1/courses/{course_id}/due"
    found = api.client.get(url, **h(tutor)).json()
    assert [d["exercise"]["title"] for d in found] == ["First", "Second"]
    rows = {r["learner"]["display_name"]: r for r in found[0]["learners"]}
    assert list(rows) == ["Ann", "Ben", "Cat"]
    assert rows["Ann"]["completed_at"] == iso(DUE) and rows["Ann"]["on_time"] is True
    assert rows["Ben"]["completed_at"] == iso(DUE + S) and rows["Ben"]["on_time"] is False
    assert rows["Cat"]["completed_at"] is None and rows["Cat"]["on_time"] is False
    assert (found[0]["on_time"], found[0]["late"], found[0]["missing"]) == (1, 1, 1)
    assert (found[1]["on_time"], found[1]["late"], found[1]["missing"]) == (1, 0, 2)
    assert found[0]["due_at"] == iso(DUE) and found[0]["available_from"] is None

    window = api.client.get(url, params={"since": iso(DUE + S)}, **h(admin)).json()
    assert [d["exercise"]["title"] for d in window] == ["Second"]
    assert api.client.get(url, params={"until": iso(DUE)}, **h(admin)).json() == []
    bad = api.client.get(url, params={"since": iso(DUE), "until": iso(DUE)}, **h(tutor))
    assert bad.status_code == 422
    assert api.client.get(url, **h(ann)).status_code == 403
    refused = api.client.get(url, **h(other))  # a published course they do not teach
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_course_staff"
