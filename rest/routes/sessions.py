"""Practice-session history, detail, audio playback and tutor feedback.

Visibility is decided in SQL by `storage.access.visible_sessions` for every route here, so
a session the caller may not see answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from rest import deps
from rest.api import Router
from rest.schemas.sessions import (
    EvaluationOut,
    FeedbackIn,
    FeedbackOut,
    SessionDetailOut,
    SessionItemOut,
    SessionListQuery,
    SessionPageOut,
    TranscriptOut,
    session_cursor,
)
from storage import history
from storage.blobs import LocalBlobStore
from storage.errors import NotFound
from storage.models import Role

router = Router("sessions")


@router.route(
    "GET",
    "/v1/sessions",
    summary="Practice history, newest first, paged by cursor",
    query=SessionListQuery,
    response=SessionPageOut,
)
async def list_sessions(request: Request) -> Response:
    who = await deps.principal(request)
    q = deps.query(request, SessionListQuery)
    filters = history.SessionFilter(
        course_id=q.course_id,
        exercise_id=q.exercise_id,
        learner_id=q.learner_id,
        status=q.status,
        since=q.since,
        until=q.until,
    )
    async with deps.state(request).sessions() as db:
        found, more = await history.list_sessions(db, who, filters, after=q.after, limit=q.limit)
    items = [SessionItemOut.model_validate(s) for s in found]
    last = items[-1] if more and items else None
    cursor = None if last is None else session_cursor(last.started_at, last.id)
    return deps.respond(SessionPageOut(items=items, next_cursor=cursor))


@router.route(
    "GET",
    "/v1/sessions/{session_id:uuid}",
    summary="One session with transcript, evaluations, tutor feedback and playback URL",
    response=SessionDetailOut,
    errors=(404,),
)
async def get_session(request: Request) -> Response:
    who = await deps.principal(request)
    session_id = deps.path_id(request, "session_id")
    app = deps.state(request)
    async with app.sessions() as db:
        detail = await history.get_detail(db, who, session_id)
    key = detail.summary.audio_blob_key
    playback = None
    if key is not None:
        # S3 hands out a presigned URL; the local store has none, so this API serves it.
        playback = await app.blobs.playback_url(key) or f"/v1/sessions/{session_id}/audio"
    evaluations = [EvaluationOut.model_validate(e) for e in detail.evaluations]
    transcript = detail.transcript
    out = SessionDetailOut(
        **dict(SessionItemOut.model_validate(detail.summary)),
        failure_reason=detail.summary.failure_reason,
        transcript=None if transcript is None else TranscriptOut.model_validate(transcript),
        evaluation=next((e for e in evaluations if e.is_current), None),
        evaluations=evaluations,
        feedback=[FeedbackOut.model_validate(f) for f in detail.feedback],
        playback_url=playback,
    )
    return deps.respond(out)


@router.route(
    "GET",
    "/v1/sessions/{session_id:uuid}/audio",
    summary="The session's recorded audio (audio/wav)",
    media_type="audio/wav",
    errors=(404,),
)
async def get_audio(request: Request) -> Response:
    who = await deps.principal(request)
    session_id = deps.path_id(request, "session_id")
    app = deps.state(request)
    async with app.sessions() as db:
        summary = await history.get_summary(db, who, session_id)
    key = summary.audio_blob_key
    if key is None or not await app.blobs.exists(key):
        raise NotFound("this session has no audio", code="no_audio")
    if isinstance(app.blobs, LocalBlobStore):
        # Served from the file, so a player's range requests need not read all of it.
        return FileResponse(app.blobs.path(key), media_type="audio/wav")
    return Response(await app.blobs.get(key), media_type="audio/wav")


@router.route(
    "POST",
    "/v1/sessions/{session_id:uuid}/feedback",
    summary="Rate and comment a session (a tutor of its course, or an admin); one per tutor",
    body=FeedbackIn,
    response=FeedbackOut,
    status=201,
    also=(200,),
    errors=(404,),
)
async def post_feedback(request: Request) -> Response:
    who = await deps.principal(request, Role.TUTOR, Role.ADMIN)
    session_id = deps.path_id(request, "session_id")
    data = await deps.body(request, FeedbackIn)
    async with deps.state(request).sessions.begin() as db:
        entry, created = await history.save_feedback(
            db, who, session_id, rating=data.rating, comment=data.comment
        )
    return deps.respond(FeedbackOut.model_validate(entry), 201 if created else 200)
