"""The store's lead-rules page (sales manager, store manager): grades' follow-up windows, the
first-contact target, sleeping leads, the hot-lead threshold, a new consultant's daily capacity
and the lost reasons, one form over ``leads.rules.lead_settings_update``; the last rescoring's
progress, polled by htmx while it runs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from autocrm.core.actor import actor_of
from autocrm.core.errors import DomainError
from autocrm.core.permissions import can

from . import rules
from .choices import LOST_REASON_LABELS, Grade, lost_reason_label
from .models import LeadRescore, LeadSettings

GRADES = (("h", Grade.H.label), ("a", Grade.A.label), ("b", Grade.B.label), ("c", Grade.C.label))


def _reason_lines(codes: list[str]) -> str:
    """The reasons for people: the built-in codes by their label in the reader's language."""
    return "\n".join(lost_reason_label(code) for code in codes)


def _reason_codes(text: str) -> str:
    """Back from the textarea: a line that reads as a built-in reason's label is stored as its
    code (so the lost-reason report keeps counting it under one name, in every language)."""
    by_label = {str(label): code for code, label in LOST_REASON_LABELS.items()}
    return "\n".join(by_label.get(line.strip(), line) for line in text.splitlines())


def _values(settings: LeadSettings) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(settings, name) for name in rules.NUMBERS}
    data["lost_reasons"] = _reason_lines(settings.reasons())
    return data


def _context(actor: Any, settings: LeadSettings, values: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "settings": settings, "values": values, "errors": errors, "form_errors": errors.get("__all__", []),
        "grades": [(key, label, f"follow_up_days_{key}") for key, label in GRADES],
        "can_change": can(actor, "change", settings), "run": rules.latest_run(actor=actor),
        "limits": rules.NUMBERS,
    }  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def lead_rules(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    settings = rules.settings_get(actor=actor)
    values = _values(settings)
    errors: dict[str, Any] = {}
    if request.method == "POST":
        sent = {name: request.POST[name] for name in rules.FIELDS if name in request.POST}
        values |= sent
        if isinstance(sent.get("lost_reasons"), str):
            sent["lost_reasons"] = _reason_codes(sent["lost_reasons"])
        try:
            rules.lead_settings_update(actor=actor, data=sent)
        except DomainError as exc:
            if not exc.fields:
                raise
            errors = exc.fields
        else:
            messages.success(request, str(_("Lead rules saved.")))
            return redirect("leads:lead_rules")
    return render(request, "leads/lead_rules.html", _context(actor, settings, values, errors),
                  status=400 if errors else 200)  # fmt: skip


@login_required
@require_POST
def lead_rescore(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    rules.rescore_request(actor=actor)
    messages.success(request, str(_("Rescoring of the open leads started.")))
    return redirect("leads:lead_rules")


@login_required
@require_GET
def rescore_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's progress (the partial the page polls every two seconds until it is over)."""
    run: LeadRescore = rules.run_get(actor=actor_of(request), pk=pk)
    return render(request, "leads/partials/rescore_progress.html", {"run": run})
