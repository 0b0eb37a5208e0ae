"""The phones of an evaluation's words, as stored and as the session detail returns them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from speech.evaluation import PhoneResult, WordResult
from storage.models import Evaluation
from tests.rest import seed
from tests.rest.conftest import Api


def _words() -> list[dict[str, Any]]:
    think = WordResult(
        "think",
        "sink",
        "mispronunciation",
        41,
        0.5,
        0.9,
        phones=(
            PhoneResult("TH", "θ", 12, "S", 0.5, 0.62, -6.3, 12),
            PhoneResult("IH", "\u026a", 88, "IH", 0.62, 0.7, -1.7, 8),
            PhoneResult("NG", "ŋ", 95, "NG", 0.7, 0.8, -1.3, 10),
            PhoneResult("K", "k", 71, None, 0.8, 0.9, -2.7, 10),
        ),
    )
    said = WordResult("I", None, "omission", 0, None, None)
    return [said.to_dict(), think.to_dict()]


def test_session_detail_returns_the_stored_phones_of_each_word(api: Api) -> None:
    w = seed.world(api)
    words = _words()

    async def store(db: AsyncSession) -> None:
        version = await seed.add_evaluation(db, w.ids["ann_1"], 80.0)
        await db.execute(
            update(Evaluation)
            .where(Evaluation.session_id == w.ids["ann_1"], Evaluation.version == version)
            .values(details={"kind": "read_aloud", "words": words, "feedback": ["Say th."]})
        )

    seed.run(api, store)
    got = api.client.get(f"/v1/sessions/{w.ids['ann_1']}", headers=w.ann.headers)
    assert got.status_code == 200, got.text
    details = got.json()["evaluation"]["details"]
    assert details["kind"] == "read_aloud" and details["feedback"] == ["Say th."]
    assert details["words"] == words
    think = details["words"][1]
    assert [p["phone"] for p in think["phones"]] == ["TH", "IH", "NG", "K"]
    assert think["phones"][0] == {
        "phone": "TH",
        "ipa": "θ",
        "accuracy": 12,
        "heard_as": "S",
        "start": 0.5,
        "end": 0.62,
    }
    assert think["phones"][3]["heard_as"] is None
    # An evaluation stored before words had phones reads back unchanged.
    older = got.json()["evaluations"][1]["details"]
    assert older["words"] == [] and older["feedback"].startswith("version")


def test_openapi_documents_the_phones_of_a_word(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    details = schemas["EvaluationOut"]["properties"]["details"]
    assert details["$ref"].endswith("/EvaluationDetailsOut")
    words = schemas["EvaluationDetailsOut"]["properties"]["words"]
    assert words["items"]["$ref"].endswith("/EvaluatedWordOut")
    phones = schemas["EvaluatedWordOut"]["properties"]["phones"]
    assert phones["items"]["$ref"].endswith("/PhoneOut")
    assert set(schemas["PhoneOut"]["properties"]) == {
        "phone",
        "ipa",
        "accuracy",
        "heard_as",
        "start",
        "end",
    }
