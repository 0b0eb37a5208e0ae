"""`POST /v1/text/analyse`: a word, phrase or grammar point explained for a learner, by the
LLM or by Parley's dictionary (`speech.explain`), kept per (text, level, model) so asking
again costs nothing (`storage.analyses`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.library import AnalyseIn, AnalysisOut
from speech.explain.analyser import TextAnalyser
from speech.explain.local import LOCAL_MODEL
from speech.explain.result import TextAnalysis
from storage import analyses
from storage.library_models import TextAnalysisRow

router = Router("library")


@router.route(
    "POST",
    "/v1/text/analyse",
    summary="Explain a word, phrase or grammar point: meanings, examples, common mistakes",
    body=AnalyseIn,
    response=AnalysisOut,
    errors=(429,),
)
async def analyse(request: Request) -> Response:
    who = await deps.principal(request)
    await deps.limit(request, "text-analyses", "text_analyses_per_user", str(who.user_id))
    data = await deps.body(request, AnalyseIn)
    app = deps.state(request)
    analyser = app.analyser
    assert analyser is not None  # set in the lifespan
    text = " ".join(data.text.split())
    async with app.sessions() as db:
        row = await analyses.cached(db, analyses.cache_key(text, data.level, analyser.model))
    if row is not None:
        return deps.respond(_out(row, cached=True))
    # Outside any transaction: the LLM may take seconds, a database connection should not.
    result = await analyser.analyse(text, data.level)
    async with app.sessions.begin() as db:
        row = await analyses.keep(
            db,
            analyses.cache_key(text, data.level, _answered_as(analyser, result)),
            text,
            data.level,
            result.model,
            result.to_dict(),
        )
        out = _out(row, cached=False)
    return deps.respond(out)


def _answered_as(analyser: TextAnalyser, result: TextAnalysis) -> str:
    """The model an answer is kept under: the configured one for the LLM's answers (the
    endpoint may name a dated variant), the dictionary for local ones, so a fallback is
    not served from the cache once the LLM answers again."""
    return analyser.model if result.source == "llm" else LOCAL_MODEL


def _out(row: TextAnalysisRow, *, cached: bool) -> AnalysisOut:
    return AnalysisOut.model_validate({**row.answer, "analysis_id": row.id, "cached": cached})
