"""How the audit trail names the maintenance app's actions (registered in ``MaintenanceConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action, register_model


def register() -> None:
    register_action("maintenance.plan_created", _("Store's own maintenance plan created"))
    register_action("maintenance.plan_changed", _("Maintenance plan changed"))
    register_action("maintenance.recorded", _("Maintenance work recorded"))
    register_action("recall.imported", _("Recall file imported"))
    register_action("recall.notified", _("Recall notices queued to owners"))
    register_action("recall.completed", _("Recall work completed"))
    register_model("maintenance.recallcampaign")
    register_model("maintenance.recallvehicle")
