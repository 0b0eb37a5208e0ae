"""An evaluation's prosody score, kept in its details, as the session detail returns it."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from speech.evaluation import Scores
from storage.models import Evaluation
from tests.rest import seed
from tests.rest.conftest import Api


def test_session_detail_returns_each_evaluations_stored_prosody(api: Api) -> None:
    w = seed.world(api)
    scored = Scores(accuracy=81, fluency=64, completeness=100, overall=75, prosody=58)
    unscored = Scores(accuracy=70, fluency=66, completeness=None, overall=68)

    async def store(db: AsyncSession) -> None:
        first = await seed.add_evaluation(db, w.ids["ann_1"], 68.0)
        second = await seed.add_evaluation(db, w.ids["ann_1"], 75.0)
        for version, scores in ((first, unscored), (second, scored)):
            await db.execute(
                update(Evaluation)
                .where(Evaluation.session_id == w.ids["ann_1"], Evaluation.version == version)
                .values(details={"kind": "read_aloud", "scores": scores.to_dict(), "words": []})
            )

    seed.run(api, store)
    got = api.client.get(f"/v1/sessions/{w.ids['ann_1']}", headers=w.ann.headers)
    assert got.status_code == 200, got.text
    current, *older = got.json()["evaluations"]
    assert got.json()["evaluation"]["prosody"] == 58
    assert current["prosody"] == 58 and current["details"]["scores"] == scored.to_dict()
    # Not scored (hand-tuned, open response), or stored before prosody existed: null.
    assert [e["prosody"] for e in older] == [None] * len(older)
    assert older[0]["details"]["scores"]["prosody"] is None
    assert "scores" not in older[-1]["details"]


def test_openapi_documents_prosody(api: Api) -> None:
    schemas = api.client.get("/openapi.json").json()["components"]["schemas"]
    prosody = schemas["EvaluationOut"]["properties"]["prosody"]
    assert {"type": "number"} in prosody["anyOf"] and {"type": "null"} in prosody["anyOf"]
    assert "rhythm" in prosody["description"]
