"""The audit trail, for admins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.audit import AuditEventOut, AuditPageOut, AuditQuery, audit_cursor
from storage import audit
from storage.models import Role

router = Router("audit")


@router.route(
    "GET",
    "/v1/audit",
    summary="Administrative actions, newest first, paged by cursor (admin)",
    query=AuditQuery,
    response=AuditPageOut,
)
async def list_events(request: Request) -> Response:
    await deps.principal(request, Role.ADMIN)
    q = deps.query(request, AuditQuery)
    where = audit.AuditFilter(
        actor_id=q.actor_id,
        action=q.action,
        target_type=q.target_type,
        target_id=q.target_id,
        since=q.since,
        until=q.until,
    )
    async with deps.state(request).sessions() as db:
        found, more = await audit.events(db, where, after=q.after, limit=q.limit)
    items = [AuditEventOut.model_validate(e) for e in found]
    last = found[-1] if more and found else None
    cursor = None if last is None else audit_cursor(audit.Position(last.at, last.id))
    return deps.respond(AuditPageOut(items=items, next_cursor=cursor))
