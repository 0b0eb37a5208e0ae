"""What to practise next, through the real app on SQLite and PostgreSQL: weak words and
sounds from stored evaluations with their evidence, exercises that hold them, and drills
that only their learner (and the course's staff) can see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import practice
from storage.access import Principal
from storage.errors import NotFound
from storage.models import Evaluation, Exercise, PracticeSession, Role, SessionStatus
from tests.rest.conftest import Account, Api
from tests.rest.seed import course, run

FOX = "I think the three thin men thought so."
NOW = datetime.now(UTC)
OLD, RECENT = NOW - timedelta(days=20), NOW - timedelta(days=1)


def word(expected: str, error: str = "none", accuracy: int | None = 90) -> dict[str, Any]:
    return {"expected": expected, "heard": expected, "error_type": error, "accuracy": accuracy}


def think(missed: bool) -> dict[str, Any]:
    """ "think" with its phones: the /θ/ is what goes wrong when the word does."""
    w = word("think", "mispronunciation" if missed else "none", 40 if missed else 92)
    w["phones"] = [
        {"phone": "TH", "ipa": "θ", "accuracy": 30 if missed else 88, "heard_as": "S"},
        {"phone": "IH", "ipa": "\u026a", "accuracy": 91, "heard_as": "IH"},
    ]
    return w


def fox_reading(
    *, think_missed: bool, thought_missed: bool, three_missed: bool = False
) -> list[dict[str, Any]]:
    return [
        word("I"),
        think(think_missed),
        word("the"),
        word("three", "mispronunciation" if three_missed else "none"),
        word("thin"),
        # A pause before "men" every time: how it was phrased, not a word to practise.
        {**word("men", "unexpected_break"), "prosody_errors": ["unexpected_break"]},
        word("thought", "omission", 0) if thought_missed else word("thought"),
        word("so."),
    ]


@dataclass
class School:
    tess: Account  # teaches A
    olga: Account  # teaches B
    ann: Account  # learns in A and B
    ben: Account  # learns in A
    a: uuid.UUID
    b: uuid.UUID
    fox: uuid.UUID
    thanks: uuid.UUID
    bx: uuid.UUID


def school(api: Api) -> School:
    tess, olga = api.account(Role.TUTOR, "Tess"), api.account(Role.TUTOR, "Olga")
    ann, ben = api.account(Role.LEARNER, "Ann"), api.account(Role.LEARNER, "Ben")
    a = course(api, "English A", tutors=[tess], learners=[ann, ben])
    b = course(api, "English B", tutors=[olga], learners=[ann])

    async def build(db: AsyncSession) -> dict[str, uuid.UUID]:
        made = {}
        for key, course_id, text in (
            ("fox", a, FOX),
            ("weather", a, "The weather is fine today."),
            ("thanks", a, "Thank you for the thought."),
            ("bx", b, "I think so."),
        ):
            row = Exercise(course_id=course_id, kind="read_aloud", title=key, reference_text=text)
            db.add(row)
            await db.flush()
            made[key] = row.id

        async def reading(
            course_id: uuid.UUID, exercise: str, at: datetime, words: list[Any]
        ) -> None:
            s = PracticeSession(
                learner_id=ann.id,
                exercise_id=made[exercise],
                course_id=course_id,
                status=SessionStatus.COMPLETED.value,
                started_at=at,
                ended_at=at + timedelta(seconds=9),
            )
            db.add(s)
            await db.flush()
            db.add(
                Evaluation(
                    session_id=s.id,
                    version=1,
                    is_current=True,
                    evaluator_name="alignment",
                    evaluator_version="1",
                    details={"words": words},
                )
            )

        # "think": missed twice long ago in A, said well lately in A, missed lately in B.
        await reading(
            a, "fox", OLD, fox_reading(think_missed=True, thought_missed=True, three_missed=True)
        )
        await reading(
            a, "fox", OLD + timedelta(days=2), fox_reading(think_missed=True, thought_missed=True)
        )
        await reading(a, "fox", RECENT, fox_reading(think_missed=False, thought_missed=False))
        await reading(b, "bx", RECENT, [word("I"), think(True), word("so.")])
        return made

    ids = run(api, build)
    return School(tess, olga, ann, ben, a, b, ids["fox"], ids["thanks"], ids["bx"])


def get(api: Api, who: Account, url: str) -> Any:
    answer = api.client.get(url, headers=who.headers)
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_a_learner_sees_their_weak_words_and_sounds_with_the_evidence(api: Api) -> None:
    s = school(api)
    mine = get(api, s.ann, "/v1/recommendations")
    assert mine["learner"]["id"] == str(s.ann.id) and mine["sessions_read"] == 4
    # "three" was missed once: a slip, not a pattern. "think" is missed more than "thought".
    # "men", paused before each time, was said right each time.
    assert [(w["text"], w["missed"], w["attempts"]) for w in mine["words"]] == [
        ("think", 3, 4),
        ("thought", 2, 3),
    ]
    think_, thought = mine["words"]
    assert think_["error_types"] == {"mispronunciation": 3}
    assert thought["error_types"] == {"omission": 2}
    # 2 of 2 missed before the last fortnight, 1 of 2 within it.
    assert think_["trend"] == "improving"
    assert think_["course_ids"] == [str(s.a), str(s.b)]
    assert think_["examples"][0] == "I think the three"
    assert think_["last_missed_at"].startswith(
        (RECENT + timedelta(seconds=9)).strftime("%Y-%m-%dT%H:%M:%S")
    )
    # The sound behind it: /θ/ missed each time the word was, /IH/ never.
    assert [(p["text"], p["ipa"], p["missed"]) for p in mine["sounds"]] == [("TH", "θ", 3)]
    assert mine["sounds"][0]["examples"] == ["think"]
    # Exercises holding the most weak words first, then the one with the weaker word.
    assert [(e["exercise"]["id"], e["words"]) for e in mine["exercises"]] == [
        (str(s.fox), ["think", "thought"]),
        (str(s.bx), ["think"]),
        (str(s.thanks), ["thought"]),
    ]
    assert mine["drill"] == {
        "course_id": str(s.a),
        "words": ["think", "thought"],
        "text": "Think, thought. I think the three. Thin men thought so.",
    }
    only_b = get(api, s.ann, f"/v1/recommendations?course_id={s.b}")
    assert only_b["words"] == [] and only_b["drill"] is None  # one miss in B


def test_tutors_see_what_their_courses_show_and_nobody_else_does(api: Api) -> None:
    s = school(api)
    url = f"/v1/tutor/learners/{s.ann.id}/recommendations"
    tess = get(api, s.tess, url)
    assert [(w["text"], w["missed"], w["attempts"]) for w in tess["words"]] == [
        ("think", 2, 3),
        ("thought", 2, 3),
    ]
    assert [e["exercise"]["id"] for e in tess["exercises"]] == [str(s.fox), str(s.thanks)]
    olga = get(api, s.olga, url)
    assert olga["words"] == [] and olga["exercises"] == [] and olga["sessions_read"] == 1
    # Olga does not teach Ben; a learner may not use the tutors' route; a tutor has no own list.
    assert (
        api.client.get(
            f"/v1/tutor/learners/{s.ben.id}/recommendations", headers=s.olga.headers
        ).status_code
        == 404
    )
    assert api.client.get(url, headers=s.ben.headers).status_code == 403
    assert api.client.get("/v1/recommendations", headers=s.tess.headers).status_code == 403
    bad = api.client.get("/v1/recommendations?course_id=nope", headers=s.ann.headers)
    assert bad.status_code == 422


def test_a_drill_is_an_exercise_only_its_learner_and_the_staff_see(api: Api) -> None:
    s = school(api)
    made = api.client.post(
        "/v1/recommendations/drills", json={"course_id": str(s.a)}, headers=s.ann.headers
    )
    assert made.status_code == 201, made.json()
    drill = made.json()
    assert drill["reference_text"] == "Think, thought. I think the three. Thin men thought so."
    assert (drill["kind"], drill["for_learner_id"], drill["course_id"]) == (
        "read_aloud",
        str(s.ann.id),
        str(s.a),
    )
    again = api.client.post(
        "/v1/recommendations/drills", json={"course_id": str(s.a)}, headers=s.ann.headers
    )
    assert again.status_code == 200 and again.json()["id"] == drill["id"]

    listed = f"/v1/courses/{s.a}/exercises"
    assert drill["id"] in [e["id"] for e in get(api, s.ann, listed)]
    assert drill["id"] in [e["id"] for e in get(api, s.tess, listed)]
    assert drill["id"] not in [e["id"] for e in get(api, s.ben, listed)]
    one = f"/v1/exercises/{drill['id']}"
    assert get(api, s.ann, one)["id"] == drill["id"]
    assert api.client.get(one, headers=s.ben.headers).status_code == 404
    assert api.client.get(f"{one}/model-audio", headers=s.ben.headers).status_code == 404

    async def start(who: Account) -> str:
        async with api.state.sessions() as db:
            try:
                found = await practice.exercise_for(
                    db, uuid.UUID(drill["id"]), Principal(who.id, who.role)
                )
            except NotFound as exc:
                return exc.code
            return str(found.id)

    assert api.run(start, s.ann) == drill["id"]
    assert api.run(start, s.ben) == "exercise_not_found"
    # Ann's own recommendations now offer the drill among the exercises.
    assert drill["id"] in [
        e["exercise"]["id"] for e in get(api, s.ann, "/v1/recommendations")["exercises"]
    ]


def test_drills_are_refused_with_a_reason(api: Api) -> None:
    s = school(api)
    post = api.client.post
    for who, body, status, code in (
        (s.ann, {"course_id": str(s.b)}, 409, "nothing_to_drill"),
        (s.ben, {"course_id": str(s.b)}, 404, None),  # not enrolled there
        (s.ann, {"course_id": str(uuid.uuid4())}, 404, None),
        (s.tess, {"course_id": str(s.a)}, 403, None),
        (s.ann, {"course_id": 7}, 422, None),
        (s.ann, {"course_id": str(s.a), "words": ["x"]}, 422, None),
    ):
        answer = post("/v1/recommendations/drills", json=body, headers=who.headers)
        assert answer.status_code == status, (body, answer.json())
        if code:
            assert answer.json()["error"]["code"] == code
