"""Reads of the audit trail, always through the actor's scope."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import models

from autocrm.core import permissions
from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound
from autocrm.core.roles import Role

from .models import AuditEvent


def audit_event_list(*, actor: Actor, filters: dict[str, Any] | None = None) -> models.QuerySet[AuditEvent]:
    """Events the actor may read, newest first. Administrators also see organization-level
    events (users, stores, tokens) that belong to no store."""
    filters = filters or {}
    qs = AuditEvent.objects.for_actor(actor, "view")
    if actor.role == Role.ADMIN and permissions.can(actor, "view", AuditEvent):
        qs = AuditEvent.objects.filter(
            models.Q(pk__in=qs.values("pk")) | models.Q(store__isnull=True, organization_id=actor.organization_id)
        )
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("object_type"):
        qs = qs.filter(object_type=filters["object_type"])
    if filters.get("object_id"):
        qs = qs.filter(object_id=str(filters["object_id"]))
    if filters.get("actor"):
        qs = qs.filter(actor_label=filters["actor"])
    if filters.get("date_from"):
        qs = qs.filter(at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(at__date__lte=filters["date_to"])
    return qs.order_by("-id")


def audit_history_for(
    *, actor: Actor, object_type: str, object_id: str
) -> tuple[models.Model, models.QuerySet[AuditEvent]]:
    """The history of one record. The record must be visible to the actor (else 404) and the
    actor must be allowed to read the audit trail (else 403)."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        raise NotFound() from None
    manager = model._default_manager
    if not hasattr(manager, "for_actor"):
        raise NotFound()
    obj = permissions.get_in_scope(model, actor, object_id, "view")
    if not permissions.can(actor, "view", AuditEvent):
        permissions.require(actor, "audit", obj)  # records authz.denied and raises 403
    events = AuditEvent.objects.filter(object_type=model._meta.label_lower, object_id=str(obj.pk)).order_by("-id")
    return obj, events


def own_audit_events(*, actor: Actor) -> models.QuerySet[AuditEvent]:
    """What the actor did, newest first, in every store: the actor id is the scope, so roles
    that may not read the audit trail still see their own actions."""
    return AuditEvent.objects.filter(actor_id=actor.user_id).order_by("-id")
