"""The audit trail in the staff UI: the event list with filters and keyset "load more", the
history of one record, and the home-page activity panel."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import ActorRequest
from autocrm.core.errors import DomainError
from autocrm.core.models import TrackedModel
from autocrm.core.pagination import paginate
from autocrm.core.permissions import can
from autocrm.core.roles import Role

from .models import AuditEvent
from .selectors import audit_event_list, audit_history_for, own_audit_events

PAGE_SIZE = 50
PANEL_SIZE = 10

ACTION_LABELS: dict[str, Any] = {
    "create": _("Created"),
    "update": _("Changed"),
    "delete": _("Deleted"),
    "login": _("Signed in"),
    "login.failed": _("Sign-in failed"),
    "login.locked": _("Sign-in refused (locked)"),
    "authz.denied": _("Access denied"),
    "pii.reveal": _("Personal data revealed"),
    "export": _("Exported"),
    "token.create": _("API token created"),
    "token.revoke": _("API token revoked"),
    "integration.create": _("Integration created"),
}


@functools.cache
def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type) if object_type else None
    except (LookupError, ValueError):
        return None


@functools.cache
def _fields(model: type[models.Model] | None) -> dict[str, models.Field]:
    if model is None:
        return {}
    return {f.attname: f for f in model._meta.concrete_fields}


def _shown(field: models.Field | None, value: Any) -> Any:
    """A recorded value as a person reads it: choice labels, yes/no, — for nothing."""
    if value is None or value == "":
        return None
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return value


def _has_history(model: type[models.Model] | None) -> bool:
    return model is not None and hasattr(model._default_manager, "for_actor")


def event_rows(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """What the templates show of each event: labels resolved, changes as before → after."""
    rows = []
    for event in events:
        model = _model(event.object_type)
        fields = _fields(model)
        changes = []
        if isinstance(event.changes, dict):
            for name, pair in event.changes.items():
                field = fields.get(name)
                if field is not None and field.primary_key:
                    continue  # the object column already names the record
                before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
                changes.append(
                    {
                        "field": capfirst(field.verbose_name) if field is not None else name,
                        "before": _shown(field, before),
                        "after": _shown(field, after),
                    }
                )
        history_url = None
        if _has_history(model) and event.object_id:
            history_url = reverse("audit:history", args=[event.object_type, event.object_id])
        rows.append(
            {
                "event": event,
                "action_label": ACTION_LABELS.get(event.action, event.action),
                "type_label": capfirst(model._meta.verbose_name) if model is not None else event.object_type,
                "changes": changes,
                "history_url": history_url,
            }
        )
    return rows


def _object_type_choices() -> list[tuple[str, Any]]:
    tracked = [m for m in apps.get_models() if issubclass(m, TrackedModel)]
    choices = sorted(((m._meta.label_lower, capfirst(m._meta.verbose_name)) for m in tracked), key=lambda c: str(c[1]))
    return [("", _("All types")), *choices]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", _("All actions")), *ACTION_LABELS.items()]
        cast(forms.ChoiceField, self.fields["object_type"]).choices = _object_type_choices()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", gettext("The end date is before the start date."))
        return data


def _page_response(
    request: HttpRequest, queryset: models.QuerySet[AuditEvent], template: str, context: dict[str, Any]
) -> HttpResponse:
    try:
        page = paginate(queryset, ordering=("-id",), limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    except DomainError as exc:
        return HttpResponseBadRequest(str(exc.message))
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    context.update(rows=event_rows(page.items), next_cursor=page.next_cursor, more_query=query.urlencode())
    if getattr(request, "htmx", False):
        return render(request, "audit/partials/event_rows.html", context)
    return render(request, template, context)


@login_required
def event_list(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    if not can(actor, "view", AuditEvent):
        raise DjangoPermissionDenied()
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound:
        form.is_valid()
        filters = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") and k not in form.errors}
    return _page_response(
        request,
        audit_event_list(actor=actor, filters=filters),
        "audit/event_list.html",
        {"form": form, "filtered": bool(filters), "more_url": reverse("audit:event_list")},
    )


@login_required
def history(request: ActorRequest, object_type: str, object_id: str) -> HttpResponse:
    actor = request.actor
    obj, events = audit_history_for(actor=actor, object_type=object_type, object_id=object_id)
    return _page_response(
        request,
        events,
        "audit/history.html",
        {
            "object": obj,
            "type_label": capfirst(obj._meta.verbose_name),
            "more_url": reverse("audit:history", args=[object_type, object_id]),
        },
    )


def panel_activity(request: ActorRequest) -> dict[str, Any] | None:
    """Home panel: recent events in the actor's audit scope, or — for roles that may not read
    the audit trail — the actor's own recent actions."""
    actor = request.actor
    if can(actor, "view", AuditEvent):
        events = audit_event_list(actor=actor)[:PANEL_SIZE]
        return {"rows": event_rows(events), "scope": "store" if actor.role == Role.MANAGER else "organization"}
    return {"rows": event_rows(own_audit_events(actor=actor)[:PANEL_SIZE]), "scope": "own"}
