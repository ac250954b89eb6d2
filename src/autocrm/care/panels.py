"""Home panels of care (issue 15 item 11): an agent's calls of the day with their scripts and the
overdue ones, complaints by deadline; the escalations reaching a manager, shown as a banner."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import ActorRequest
from autocrm.core.permissions import can
from autocrm.core.roles import Role
from autocrm.core.views import lazy_for, register_home_panel

from .choices import ComplaintStatus, FollowUpKind, Severity
from .models import Complaint, FollowUp, SurveyResponse
from .selectors import complaint_queryset, escalations_for, followups_today, survey_month

CALLER_ROLES = frozenset({Role.AGENT})
SURVEY_ROLES = frozenset({Role.MANAGER, Role.SERVICE_MANAGER, Role.SALES_MANAGER, Role.DIRECTOR})
COMPLAINT_ROLES = frozenset({Role.AGENT, Role.SALES_MANAGER, Role.SERVICE_MANAGER})


def home_calls(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor.role not in CALLER_ROLES or not can(actor, "view", FollowUp):
        return None
    data = followups_today(actor=actor)
    data["kinds"] = dict(FollowUpKind.choices)
    return data


def home_complaints(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor.role not in COMPLAINT_ROLES or not can(actor, "view", Complaint):
        return None
    rows = list(
        complaint_queryset(actor=actor).exclude(status=ComplaintStatus.CLOSED).order_by("step_due_at", "id")[:8]
    )
    return {"rows": rows, "now": timezone.now(), "statuses": dict(ComplaintStatus.choices),
            "severities": dict(Severity.choices)}  # fmt: skip


def home_escalations(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if not can(actor, "view", Complaint):
        return None
    rows = list(escalations_for(actor=actor)[:10])
    if not rows:
        return None
    return {"rows": rows, "now": timezone.now()}


def home_surveys(request: ActorRequest) -> dict[str, Any] | None:
    actor = request.actor
    if actor.role not in SURVEY_ROLES or not can(actor, "view", SurveyResponse):
        return None
    return survey_month(actor=actor)


def customer_care_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    """The care part of the customer 360 page: a lazy part (no query on the page's first paint)."""
    from django.urls import reverse

    if not (can(actor, "view", Complaint) or can(actor, "view", FollowUp) or can(actor, "view", SurveyResponse)):
        return None
    return {"care_part_url": reverse("care:customer_part", args=[customer.pk])}


def register() -> None:
    from autocrm.core.extensions import Panel, register_panel

    register_panel(Panel(target="customers.customer", key="care", template="care/panels/customer_care.html",
                         context=customer_care_context, order=15, module="care"))  # fmt: skip
    # Not a manager's first screen (ADR 0030): the escalations are; this month's CSI/NPS and the
    # lowest-scored visits load when scrolled to, so their queries leave the first paint.
    register_home_panel("care_surveys", template="care/panels/home_surveys.html", context=home_surveys, order=5,
                        lazy=lazy_for(*SURVEY_ROLES), title=_("Customer satisfaction this month"))  # fmt: skip
    register_home_panel("care_escalations", template="care/panels/home_escalations.html", context=home_escalations,
                        order=1)  # fmt: skip
    register_home_panel("care_calls", template="care/panels/home_calls.html", context=home_calls, order=3)
    register_home_panel("care_complaints", template="care/panels/home_complaints.html", context=home_complaints,
                        order=4)  # fmt: skip
