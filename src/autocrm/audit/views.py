"""The audit trail in the staff UI: the event list with filters and keyset "load more", the
history of one record, and the home-page activity panel."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import ActorRequest, actor_of
from autocrm.core.audit import ACTIONS, noise_actions
from autocrm.core.errors import PermissionDenied
from autocrm.core.pagination import paginate
from autocrm.core.permissions import can
from autocrm.core.roles import Role

from .formatting import event_rows, model_label, time_zone_label, tracked_models
from .models import AuditEvent
from .selectors import audit_event_list, audit_history_for, own_audit_events

PAGE_SIZE = 50
PANEL_SIZE = 10


def _object_type_choices() -> list[tuple[str, Any]]:
    choices = sorted(((m._meta.label_lower, model_label(m)) for m in tracked_models()), key=lambda c: str(c[1]))
    return [("", _("All types")), *choices]


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actions = sorted(((a.code, a.label) for a in ACTIONS.entries()), key=lambda c: str(c[1]))
        # cast: Form.fields is typed dict[str, Field]; these are the ChoiceFields declared above.
        cast(forms.ChoiceField, self.fields["action"]).choices = [("", _("All actions")), *actions]
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
    # A hand-edited cursor is a ValidationError: the middleware answers 400.
    page = paginate(queryset, ordering=("-id",), limit=PAGE_SIZE, cursor=request.GET.get("cursor") or None)
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next_cursor:
        query["cursor"] = page.next_cursor
    actor = actor_of(request)
    context.update(
        rows=event_rows(page.items, actor=actor),
        time_zone=time_zone_label(),
        next_cursor=page.next_cursor,
        more_query=query.urlencode(),
    )
    if getattr(request, "htmx", False):
        return render(request, "audit/partials/event_rows.html", context)
    return render(request, template, context)


@login_required
def event_list(request: ActorRequest) -> HttpResponse:
    actor = request.actor
    if not can(actor, "view", AuditEvent):
        raise PermissionDenied()
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
            "type_label": model_label(type(obj)),
            "more_url": reverse("audit:history", args=[object_type, object_id]),
        },
    )


def panel_activity(request: ActorRequest) -> dict[str, Any] | None:
    """Home panel: recent events in the actor's audit scope, or — for roles that may not read
    the audit trail — the actor's own recent actions. Routine events (sign-ins, denials: the
    actions registered as ``noise``) are left out unless the reader asks for all
    (``?activity=all``)."""
    actor = request.actor
    show_all = request.GET.get("activity") == "all"
    if can(actor, "view", AuditEvent):
        events = audit_event_list(actor=actor)
        scope = "store" if actor.role == Role.MANAGER else "organization"
    else:
        events = own_audit_events(actor=actor)
        scope = "own"
    if not show_all:
        events = events.exclude(action__in=noise_actions())
    return {
        "rows": event_rows(events[:PANEL_SIZE], actor=actor, changes=False),
        "scope": scope,
        "show_all": show_all,
        "time_zone": time_zone_label(),
    }
