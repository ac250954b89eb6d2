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
    register_action("bill.void", _("Bill payment voided"))
    register_action("accessory.create", _("Accessory added to the list"))
    register_action("accessory.sell", _("Accessory sold on a repair order"))
    register_action("errand.advance", _("Errand moved on"))
    register_action("errand.assign", _("Errand given to a driver"))
    register_action("errand.create", _("Errand requested"))
    register_action("insurance_claim.paid", _("Insurer's share received"))
    register_action("insurance_claim.set", _("Insurer claim recorded"))
    register_action("loaner.create", _("Loaner car added"))
    register_action("loaner.status", _("Loaner car status changed"))
    register_action("loaner_booking.cancel", _("Loaner booking cancelled"))
    register_action("loaner_booking.create", _("Loaner booked"))
    register_action("loaner_booking.handover", _("Loaner handed over"))
    register_action("loaner_booking.return", _("Loaner returned"))
    register_action("mobility_settings.change", _("Mobility settings changed"))
    register_action("plan.apply", _("Plan visit used on a repair order"))
    register_action("plan.unapply", _("Plan visit given back"))
    register_action("plan_product.create", _("Plan product created"))
    register_action("rescue.advance", _("Rescue moved on"))
    register_action("rescue.assign", _("Rescue crew assigned"))
    register_action("rescue.create", _("Rescue requested"))
    register_action("vehicle_plan.cancel", _("Vehicle plan cancelled"))
    register_action("vehicle_plan.give", _("Plan given with the car"))
    register_action("vehicle_plan.sell", _("Plan sold"))
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
    register_action("inspection_checklist.save", _("Inspection checklist changed"))
