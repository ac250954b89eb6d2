from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ServiceType(models.TextChoices):
    """What the owner books; each type has an expected duration (``DURATION_MINUTES``)."""

    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    INSPECTION = "inspection", _("Inspection")
    BODYWORK = "bodywork", _("Body and paint")
    RECALL = "recall", _("Recall")


DURATION_MINUTES: dict[str, int] = {
    ServiceType.MAINTENANCE: 60,
    ServiceType.REPAIR: 120,
    ServiceType.INSPECTION: 30,
    ServiceType.BODYWORK: 240,
    ServiceType.RECALL: 60,
}


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ARRIVED = "arrived", pgettext_lazy("appointment status", "Arrived")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


# The statuses that hold capacity in the workshop.
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


class RoStatus(models.TextChoices):
    """The repair-order workflow of SPEC §3, in order (预约 → 接车 → 诊断 → 待客户确认 → 维修中 → 质检
    → 待结算 → 已交车). A repair order moves one step at a time, through
    ``service.services.repair_order_advance``."""

    APPOINTMENT = "appointment", _("Booked")
    RECEIVED = "received", _("Received")
    DIAGNOSIS = "diagnosis", _("Diagnosis")
    AWAITING_APPROVAL = "awaiting_approval", _("Waiting for the owner's approval")
    IN_REPAIR = "in_repair", _("In repair")
    QUALITY_CHECK = "quality_check", _("Quality check")
    AWAITING_PAYMENT = "awaiting_payment", _("Waiting for payment")
    DELIVERED = "delivered", _("Delivered")


RO_ORDER: tuple[str, ...] = tuple(RoStatus.values)
# Statuses of a car in the shop (the advisor's board).
IN_SHOP = RO_ORDER[1:-1]


class Approval(models.TextChoices):
    PENDING = "pending", _("Waiting for the owner")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")


class Progress(models.TextChoices):
    WAITING = "waiting", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class PhotoKind(models.TextChoices):
    FINDING = "finding", _("Finding")
    REPLACED_PART = "replaced_part", _("Replaced part")


class DeclinedStatus(models.TextChoices):
    OPEN = "open", _("To offer again")
    DONE = "done", _("Done later")
    DROPPED = "dropped", _("Dropped")


class BillStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    TRANSFER = "transfer", _("Bank transfer")
    INSURER = "insurer", _("Insurer direct billing")
