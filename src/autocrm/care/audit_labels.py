"""How the audit trail names the care app's actions (registered in ``CareConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action, register_model


def register() -> None:
    register_action("care.followup_planned", _("Follow-up call planned"))
    register_action("care.followup_recorded", _("Follow-up call recorded"))
    register_action("care.followups_escalated", _("Overdue follow-up calls escalated"))
    register_action("care.complaint_received", _("Complaint received"))
    register_action("care.complaint_advanced", _("Complaint moved on"))
    register_action("care.complaint_reopened", _("Complaint reopened"))
    register_action("care.complaint_escalated", _("Complaint escalated"))
    register_action("care.survey_answered", _("Survey answered"))
    register_action("care.survey_reviewed", _("Survey answer reviewed"))
    register_model("care.followup")
    register_model("care.complaint")
    register_model("care.caresettings")
