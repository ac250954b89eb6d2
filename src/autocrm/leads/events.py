"""What leads announces (``core.events``): higher apps (sales, analytics) subscribe."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    source_channel: str
    customer_id: int | None
    consultant_id: int | None
    referral_code: str = ""  # a member's referral code the lead came with (loyalty rewards it)


@dataclass(frozen=True)
class LeadAssigned:
    lead_id: int
    consultant_id: int | None
    previous_id: int | None


@dataclass(frozen=True)
class LeadClosed:
    lead_id: int
    status: str


LEAD_CREATED = define_event("leads.created", LeadCreated, _("A new lead arrived (any channel)."))
LEAD_ASSIGNED = define_event("leads.assigned", LeadAssigned, _("A lead was given to a consultant."))
LEAD_CLOSED = define_event("leads.closed", LeadClosed, _("A lead was closed (lost)."))
