"""Choices of the care app (回访, 投诉)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FollowUpKind(models.TextChoices):
    DELIVERY = "delivery", _("After delivery")
    SERVICE = "service", _("After service")
    LOW_SCORE = "low_score", _("Low survey score")
    WINBACK = "winback", _("Win-back call")
    WATCH = "watch", _("Won-back customer's visit")


class FollowUpStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("follow-up status", "To call")
    DONE = "done", pgettext_lazy("follow-up status", "Done")
    GAVE_UP = "gave_up", pgettext_lazy("follow-up status", "Not reached")


class Outcome(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    ISSUE = "issue", _("Issue raised")
    UNREACHABLE = "unreachable", _("Unreachable")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    CALL = "call", _("Follow-up call")
    WALK_IN = "walk_in", _("In the store")
    WECHAT = "wechat", _("WeChat")
    SURVEY = "survey", _("Survey")
    OEM = "oem", _("Manufacturer hotline")
    ONLINE = "online", _("Online review")
    API = "api", _("Other system")


class Category(models.TextChoices):
    QUALITY = "quality", _("Repair quality")
    ATTITUDE = "attitude", _("Staff attitude")
    PRICE = "price", _("Price and billing")
    WAITING = "waiting", _("Waiting time")
    PARTS = "parts", _("Parts availability")
    PRODUCT = "product", _("Vehicle defect")
    SALES = "sales", _("Sales promise")
    OTHER = "other", pgettext_lazy("complaint category", "Other")


class Severity(models.TextChoices):
    LOW = "low", pgettext_lazy("severity", "Low")
    MEDIUM = "medium", pgettext_lazy("severity", "Medium")
    HIGH = "high", pgettext_lazy("severity", "High")


class Department(models.TextChoices):
    AFTERSALES = "aftersales", _("After-sales")
    SALES = "sales", _("Sales department")
    CARE = "care", _("Customer care")


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", pgettext_lazy("complaint status", "Received")
    ASSIGNED = "assigned", pgettext_lazy("complaint status", "Assigned")
    HANDLING = "handling", pgettext_lazy("complaint status", "Handling")
    CONFIRMING = "confirming", pgettext_lazy("complaint status", "Awaiting customer confirmation")
    CLOSED = "closed", pgettext_lazy("complaint status", "Closed")


class RootCause(models.TextChoices):
    PRODUCT = "product", _("Product defect")
    PROCESS = "process", _("Process gap")
    ATTITUDE = "attitude", _("Attitude")
    PRICE = "price", _("Price")
    PARTS_DELAY = "parts_delay", _("Parts delay")
    WORKMANSHIP = "workmanship", _("Workmanship")
    COMMUNICATION = "communication", _("Communication")
    UNFOUNDED = "unfounded", _("Not founded")


# Escalation levels of a complaint: the owning department's manager, then the general manager (总经理督办).
LEVEL_NONE, LEVEL_MANAGER, LEVEL_GM = 0, 1, 2

# The next status of each, and the status a reopened complaint returns to.
NEXT_STATUS = {
    ComplaintStatus.RECEIVED: ComplaintStatus.ASSIGNED,
    ComplaintStatus.ASSIGNED: ComplaintStatus.HANDLING,
    ComplaintStatus.HANDLING: ComplaintStatus.CONFIRMING,
    ComplaintStatus.CONFIRMING: ComplaintStatus.CLOSED,
}

# Hours each step may take, by severity (a store changes them in its care settings).
DEFAULT_DEADLINES: dict[str, dict[str, int]] = {
    Severity.LOW: {"received": 24, "assigned": 48, "handling": 120, "confirming": 72},
    Severity.MEDIUM: {"received": 8, "assigned": 24, "handling": 72, "confirming": 48},
    Severity.HIGH: {"received": 2, "assigned": 8, "handling": 24, "confirming": 24},
}

DEFAULT_SCRIPTS: dict[str, Any] = {
    FollowUpKind.DELIVERY: _(
        "Hello, this is {agent}, customer service of {store}. You took delivery of your new car {days} days ago: "
        "did the consultant explain everything at the handover? Any questions about the car? Are you happy with our service?"
    ),
    FollowUpKind.SERVICE: _(
        "Hello, this is {agent}, customer service of {store}. Your car {plate} was serviced with us a few days ago: "
        "how is it running? Are you happy with the work and the waiting time? Did the advisor explain clearly?"
    ),
    FollowUpKind.LOW_SCORE: _(
        "Hello, this is {agent}, customer service of {store}. We saw your low score in our survey and we are sorry: "
        "what disappointed you? We will put it right."
    ),
    FollowUpKind.WINBACK: _(
        "Hello, this is {agent}, customer service of {store}. We have not seen you and your car for a while and we miss you: "
        "was anything wrong with our service? We have prepared an offer for your next visit."
    ),
    FollowUpKind.WATCH: _(
        "Hello, this is {agent}, customer service of {store}. Thank you for coming back to us! "
        "How was this visit? Is there anything we should do better?"
    ),
}


class SurveyKind(models.TextChoices):
    CSI = "csi", _("Satisfaction (CSI)")
    NPS = "nps", _("Recommendation (NPS)")


class SurveyMoment(models.TextChoices):
    SERVICE = "service", _("After service")
    DELIVERY = "delivery", _("After delivery")


class ResponseStatus(models.TextChoices):
    COUNTED = "counted", _("Counted")
    FLAGGED = "flagged", _("Flagged: awaiting review")
    ACCEPTED = "accepted", _("Reviewed: counted")
    EXCLUDED = "excluded", _("Reviewed: excluded")


class Flag(models.TextChoices):
    STAFF_DEVICE = "staff_device", _("Answered on a staff device")
    STORE_NETWORK = "store_network", _("Answered from the store's network")
    FAST = "fast", _("Answered in seconds")
    NUMBER_CHANGED = "number_changed", _("Mobile number changed shortly before")
    SAME_DEVICE = "same_device", _("Many answers from one device")


COUNTED_STATUSES = (ResponseStatus.COUNTED, ResponseStatus.ACCEPTED)

# The shipped CSI items (a store's template may list its own).
DEFAULT_CSI_ITEMS: list[dict[str, str]] = [
    {"code": "efficiency", "label": "服务效率"},
    {"code": "attitude", "label": "服务态度"},
    {"code": "environment", "label": "环境设施"},
    {"code": "price", "label": "价格透明"},
]


class WinBackReason(models.TextChoices):
    """Why a lapsed customer stopped coming (the win-back survey's answer)."""

    PRICE = "price", _("The price")
    ATTITUDE = "attitude", _("The staff's attitude")
    WAITING = "waiting", _("The waiting time")
    MOVED = "moved", _("I moved away")
    ELSEWHERE = "elsewhere", _("I service it elsewhere")
    OTHER = "other", pgettext_lazy("win-back reason", "Other")


# How a lapse ends: the customer came back (won back), or not yet.
WINBACK_WATCH_SOURCE = 100  # a watch call's source id: the win-back's id × 100 + the visit's number
