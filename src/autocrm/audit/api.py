"""Audit API: the trail of the actor's scope, and one record's history.

``GET /audit-events`` lists events newest first (manager: their store; director and
administrator: the organization), with filters ``action``, ``object_type``, ``object_id``,
``actor``, ``date_from``, ``date_to`` and keyset paging. A role without read access to the
audit trail at all (sales, advisors, …) gets 403 — the endpoint's existence is public, so
there is nothing to hide — and the refusal is itself recorded as ``authz.denied``.

``GET /audit-events/history?object_type=&object_id=`` is one record's history: 404 when the
record is outside the actor's scope, 403 when the actor may see it but not its history.
"""

from __future__ import annotations

from typing import Any

from ninja import Query, Router

from autocrm.core import audit, permissions
from autocrm.core.actor import Actor, ActorRequest
from autocrm.core.api import ErrorOut, PageOut
from autocrm.core.errors import PermissionDenied
from autocrm.core.pagination import paginate

from .formatting import event_rows
from .models import AuditEvent
from .schemas import AuditEventFilter, AuditEventOut, AuditHistoryIn, event_out
from .selectors import audit_event_list, audit_history_for

router = Router(tags=["audit"])
PREFIX = "/audit-events"

ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


def _require_list(actor: Actor) -> None:
    if not permissions.can(actor, "view", AuditEvent):
        audit.record_durable(
            "authz.denied",
            actor=actor,
            object_type="audit.auditevent",
            store_id=actor.store_id,
            extra={"attempted": "view", "role": actor.role},
        )
        raise PermissionDenied()


@router.get("", response={200: PageOut[AuditEventOut], **ERRORS})
def audit_events(request: ActorRequest, filters: Query[AuditEventFilter]) -> Any:
    """Audit events the caller may read, newest first."""
    actor = request.actor
    _require_list(actor)
    data = filters.dict(exclude={"limit", "cursor"})
    page = paginate(
        audit_event_list(actor=actor, filters=data), ordering=("-id",), limit=filters.limit, cursor=filters.cursor
    )
    return {"items": [event_out(r) for r in event_rows(page.items, actor=actor)], "next_cursor": page.next_cursor}


@router.get("/history", response={200: PageOut[AuditEventOut], **ERRORS})
def audit_history(request: ActorRequest, query: Query[AuditHistoryIn]) -> Any:
    """The history of one record in the caller's scope, newest first."""
    actor = request.actor
    _obj, events = audit_history_for(actor=actor, object_type=query.object_type, object_id=query.object_id)
    page = paginate(events, ordering=("-id",), limit=query.limit, cursor=query.cursor)
    return {"items": [event_out(r) for r in event_rows(page.items, actor=actor)], "next_cursor": page.next_cursor}
