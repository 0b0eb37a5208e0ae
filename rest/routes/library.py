"""The resource library (`storage.library`): tutors' shared vocabulary, phrases and
grammar points, learners' saved text analyses, a ranked search, and tutors' ratings."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.library import (
    RatedOut,
    RatingIn,
    ResourceIn,
    ResourceOut,
    ResourcePageOut,
    ResourcePatchIn,
    ResourceQuery,
    newest_cursor,
    rank_cursor,
    ranked_out,
    resource_out,
)
from speech.explain.schema import Explanation
from storage import analyses, library
from storage.errors import NotFound
from storage.library import RankPosition
from storage.library_models import ResourceKind
from storage.models import Role

router = Router("library")

RESOURCE = "/v1/resources/{resource_id:uuid}"

_KINDS = {"word": ResourceKind.VOCABULARY, "phrase": ResourceKind.PHRASE}


@router.route(
    "POST",
    "/v1/resources",
    summary="Add a resource, or save a text analysis to the library",
    body=ResourceIn,
    response=ResourceOut,
    status=201,
    errors=(404,),
)
async def create(request: Request) -> Response:
    who = await deps.principal(request)
    data = await deps.body(request, ResourceIn)
    given = data.model_dump(exclude_unset=True, exclude={"analysis_id"}, mode="python")
    async with deps.state(request).sessions.begin() as db:
        fields = await _from_analysis(db, data.analysis_id) if data.analysis_id else {}
        fields.update(given)
        if isinstance(fields.get("kind"), ResourceKind):
            fields["kind"] = fields["kind"].value
        row = await library.add(db, who, fields)
        out = resource_out(row)
    return deps.respond(out, status=201)


async def _from_analysis(db: AsyncSession, analysis_id: uuid.UUID) -> dict[str, Any]:
    found = await analyses.get(db, analysis_id)
    if found is None:
        raise NotFound("text analysis not found", code="analysis_not_found")
    answer = found.answer
    fields: dict[str, Any] = {"analysis_id": found.id, "text": found.text, "level": found.level}
    if answer.get("explanation") is None:
        fields["kind"] = ResourceKind.VOCABULARY if len(found.text.split()) == 1 else "phrase"
        fields["explanation"] = answer.get("note") or ""
        return fields
    explained = Explanation.model_validate(answer["explanation"])
    meanings = [
        f"({d.part_of_speech}) {d.meaning}"
        for d in explained.definitions
        if d.meaning not in explained.summary  # the summary often restates the first
    ]
    fields["kind"] = _KINDS.get(explained.kind, ResourceKind.GRAMMAR)
    fields["explanation"] = "\n".join([explained.summary, *meanings])[:2000]
    fields["examples"] = list(explained.examples)
    return fields


@router.route(
    "GET",
    "/v1/resources",
    summary="Search the library: filters, best-ranked (or newest) first, paged by cursor",
    query=ResourceQuery,
    response=ResourcePageOut,
)
async def search(request: Request) -> Response:
    who = await deps.principal(request)
    q = deps.query(request, ResourceQuery)
    after = q.after
    as_of = after.as_of if isinstance(after, RankPosition) else time.time()
    where = library.Search(
        kind=None if q.kind is None else q.kind.value,
        level=q.level,
        course_id=q.course_id,
        text=q.text,
        mine=q.mine,
    )
    async with deps.state(request).sessions() as db:
        found, more = await library.search(
            db, who, where, by_rank=q.sort == "rank", after=after, limit=q.limit, as_of=as_of
        )
        items = [ranked_out(row, rank) for row, rank in found]
    cursor = None
    if more and found:
        last, last_rank = found[-1]
        if q.sort == "rank":
            cursor = rank_cursor(as_of, last_rank, last.id)
        else:
            cursor = newest_cursor(last.created_at, last.id)
    return deps.respond(ResourcePageOut(items=items, next_cursor=cursor))


@router.route(
    "GET", RESOURCE, summary="One resource (counts as a view)", response=ResourceOut, errors=(404,)
)
async def read(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions.begin() as db:
        row = await library.get(db, who, deps.path_id(request, "resource_id"))
        await library.opened(db, who, row)
        out = resource_out(row)
    return deps.respond(out)


@router.route(
    "PATCH",
    RESOURCE,
    summary="Change a resource (its author, or its course's staff)",
    body=ResourcePatchIn,
    response=ResourceOut,
    errors=(404,),
)
async def change(request: Request) -> Response:
    who = await deps.principal(request)
    data = await deps.body(request, ResourcePatchIn)
    async with deps.state(request).sessions.begin() as db:
        row = await library.editable(db, who, deps.path_id(request, "resource_id"))
        for name, value in data.model_dump(exclude_unset=True).items():
            setattr(row, name, value.value if isinstance(value, ResourceKind) else value)
        await db.flush()
        await db.refresh(row)
        out = resource_out(row)
    return deps.respond(out)


@router.route(
    "DELETE",
    RESOURCE,
    summary="Delete a resource (its author, or its course's staff)",
    status=204,
    errors=(404,),
)
async def remove(request: Request) -> Response:
    who = await deps.principal(request)
    async with deps.state(request).sessions.begin() as db:
        row = await library.editable(db, who, deps.path_id(request, "resource_id"))
        await db.delete(row)
    return Response(status_code=204)


@router.route(
    "PUT",
    f"{RESOURCE}/rating",
    summary="Rate a shared resource 1-5 stars (tutors of its course, admins)",
    body=RatingIn,
    response=RatedOut,
    status=201,
    also=(200,),  # a rating changed
    errors=(404,),
)
async def rate(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    data = await deps.body(request, RatingIn)
    async with deps.state(request).sessions.begin() as db:
        row = await library.get(db, who, deps.path_id(request, "resource_id"))
        first = await library.rate(db, who, row, data.stars, data.comment)
        out = RatedOut(resource=resource_out(row), my_stars=data.stars)
    return deps.respond(out, status=201 if first else 200)
