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
    register_action("care.settings_saved", _("Care settings saved"))
    register_action("care.customer_no_contact", _("Customer marked do not contact"))
    register_action("care.winbacks_flagged", _("Lapsed customers flagged for win-back"))
    register_action("care.winback_answered", _("Win-back survey answered"))
    register_action("care.winback_offer", _("Win-back offer given"))
    register_action("care.winback_reviewed", _("Win-back answer reviewed"))
    register_action("care.winback_returned", _("Customer won back"))
    register_model("care.followup")
    register_model("care.complaint")
    register_model("care.caresettings")
