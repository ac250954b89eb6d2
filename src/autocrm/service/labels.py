"""How the audit trail and the timeline name after-sales' actions, fields and kinds."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_action, register_model
from autocrm.customers.timeline import register_timeline_kind


def register() -> None:
    register_action("appointment.cancel", _("Appointment cancelled"))
    register_action("appointment.arrived", _("Arrival marked"))
    register_action("appointment.no_show", _("No-show marked"))
    register_action("repair_order.advance", _("Repair order moved to its next status"))
    register_action("repair_order.canned_job", _("Canned job added to a repair order"))
    register_action("repair_order.estimate_sent", _("Estimate link sent to the owner"))
    register_action("repair_order.estimate_answered", _("Owner answered the estimate"))
    register_action("bill.pay", _("Bill paid"))
    register_model("service.serviceday", labels={"bookings": _("bookings")}, hidden=("bookings",))
    register_model("service.jobphoto", labels={"path": _("file"), "uploaded_by": _("uploaded by")}, hidden=("path",))
    register_model("service.estimatelink", labels={"nonce": _("link secret")}, hidden=("nonce",))
    register_model("service.repairorderstatuschange", labels={"by": _("by")})
    register_timeline_kind("service.appointment", _("Service appointment"))
    register_timeline_kind("service.received", _("Car received for service"))
    register_timeline_kind("service.delivered", _("Car delivered after service"))
    register_action("repair_order.inspection_started", _("Walk-round inspection started"))
    register_action("repair_order.inspection_recommended", _("Inspection finding added to the estimate"))
    register_model("service.inspectionphoto", labels={"path": _("file"), "uploaded_by": _("uploaded by")},
                   hidden=("path",))  # fmt: skip
