"""How the audit trail names the moments app's actions (registered in ``MomentsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action, register_model


def register() -> None:
    register_action("moments.trigger_saved", _("Care moment trigger saved"))
    register_action("club.event_created", _("Car club event created"))
    register_action("club.registered", _("Registered for a car club event"))
    register_action("club.cancelled", _("Car club registration cancelled"))
    register_action("club.checked_in", _("Checked in at a car club event"))
    register_action("club.invited", _("Car club invitation sent"))
    register_model("moments.momenttrigger")
    register_model("moments.clubevent")
    register_model("moments.clubregistration")
