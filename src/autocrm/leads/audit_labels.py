"""How the audit trail names what leads records: its actions, the bookkeeping fields it hides
(the sweep's marks, the round-robin counters) and the page a lead opens on. Registered in
``LeadsConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action, register_model


def _lead_url(pk: Any) -> str:
    return reverse("leads:lead_detail", args=[pk])


def register() -> None:
    register_action("lead.assigned", _("Lead assigned"))
    register_action("lead.enquired_again", _("Lead enquired again"))
    register_action("lead.lost_requested", _("Lost requested"))
    register_action("lead.lost_approved", _("Lost request approved"))
    register_action("lead.lost_returned", _("Lost request returned"))
    register_action("lead.settings_changed", _("Lead rules changed"))
    register_action("lead.conversation_record", _("Conversation record attached"))
    register_model(
        "leads.lead",
        hidden=("first_contact_reminded_at", "first_contact_escalated_at", "follow_up_reminded_at",
                "follow_up_escalated_at", "mobile_index", "score_signals", "scored_at"),
        url=_lead_url,
    )  # fmt: skip
    register_model("leads.consultantduty", hidden=("last_assigned_at", "turn", "assigned_on", "assigned_today"))
    register_model("leads.leadactivity", hidden=("ref",))
    register_action("lead.rescore_requested", _("Lead rescoring requested"))
    register_model("leads.leadrescore", labels={"cursor": _("progress"), "started_at": _("started at"),
                                                "finished_at": _("finished at")}, hidden=("cursor",))  # fmt: skip
    register_model("leads.lostrequest", labels={"decided_at": _("decided at"), "prior_status": _("status before")})
