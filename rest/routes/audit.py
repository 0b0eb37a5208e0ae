"""The audit trail, for admins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rest import deps
from rest.api import Router
from rest.schemas.audit import AuditEventOut, AuditQuery
from storage import audit
from storage.models import Role

router = Router("audit")


@router.route(
    "GET",
    "/v1/audit",
    summary="Administrative actions, newest first (admin)",
    query=AuditQuery,
    response=list[AuditEventOut],
)
async def list_events(request: Request) -> Response:
    await deps.principal(request, Role.ADMIN)
    q = deps.query(request, AuditQuery)
    where = audit.AuditFilter(
        actor_id=q.actor_id, action=q.action, target_id=q.target_id, since=q.since, until=q.until
    )
    async with deps.state(request).sessions() as db:
        found = await audit.events(db, where, limit=q.limit, offset=q.offset)
    return deps.respond([AuditEventOut.model_validate(e) for e in found])
