from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadStatus(models.TextChoices):
    NEW = "new", _("New, not contacted")
    CONTACTED = "contacted", _("Contacted")
    VISITED = "visited", _("Visited the store")
    NEGOTIATING = "negotiating", _("Negotiating")
    WON = "won", _("Won (deal)")
    LOST_REQUESTED = "lost_requested", _("Lost, awaiting approval")
    LOST = "lost", _("Lost")
    MERGED = "merged", _("Linked to another lead")


OPEN_STATUSES = (
    LeadStatus.NEW,
    LeadStatus.CONTACTED,
    LeadStatus.VISITED,
    LeadStatus.NEGOTIATING,
    LeadStatus.LOST_REQUESTED,
)


class Grade(models.TextChoices):
    """Intent grade (意向级别); the follow-up window per grade is a store setting."""

    H = "H", _("H · buys within 7 days")
    A = "A", _("A · within 15 days")
    B = "B", _("B · within 30 days")
    C = "C", _("C · later or unsure")
    NONE = "", _("Not graded yet")


class LeadSource(models.TextChoices):
    """Where a lead came from (来源渠道)."""

    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone call")
    WEB_FORM = "web_form", _("Web form")
    AUTOHOME = "autohome", _("Autohome (汽车之家)")
    DONGCHEDI = "dongchedi", _("Dongchedi (懂车帝)")
    YICHE = "yiche", _("Yiche (易车)")
    OEM = "oem", _("OEM platform")
    WECHAT = "wechat", _("WeChat")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event / auto show")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    OTHER = "other", _("Other")


class MobileFlag(models.TextChoices):
    """Why a lead's number is doubtful: flagged, never refused (a platform lead is still worth a look)."""

    OK = "", _("Looks valid")
    INVALID = "invalid", _("Not a valid mobile number")
    EMPTY_NUMBER = "empty", _("Looks like an empty number (空号)")


class DutyStatus(models.TextChoices):
    ON_DUTY = "on_duty", _("On duty")
    BUSY = "busy", _("Busy")
    OFF = "off", _("Off")


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    WECHAT = "wechat", _("WeChat")
    SMS = "sms", _("SMS")
    VISIT = "visit", _("Store visit")
    TEST_DRIVE = "test_drive", _("Test drive")
    NOTE = "note", _("Note")
    TASK = "task", _("To-do")
    ENQUIRY = "enquiry", _("Enquired again")
    ASSIGNMENT = "assignment", _("Assignment")


# Activities that are a touch of the customer (a note, a repeated enquiry or an assignment is not).
CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.WECHAT, ActivityKind.SMS, ActivityKind.VISIT, ActivityKind.TEST_DRIVE)


class ActivityOutcome(models.TextChoices):
    NONE = "", _("—")
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    APPOINTMENT = "appointment", _("Visit booked")
    CALL_BACK = "call_back", _("Call back later")
    NOT_INTERESTED = "not_interested", _("Not interested")


class LostRequestStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")


DEFAULT_LOST_REASONS = (
    "bought_competitor", "bought_elsewhere", "price", "no_longer_buying", "unreachable", "finance_refused", "other"
)  # fmt: skip


class PageKind(models.TextChoices):
    """The kind of page a browsing event is about (website, mini-program)."""

    CONFIG = "config", _("Configuration")
    PRICE = "price", _("Price")
    GALLERY = "gallery", _("Gallery")
    COMPARE = "compare", _("Comparison")
    FINANCE = "finance", _("Finance calculator")
    TEST_DRIVE = "test_drive", _("Test-drive booking")
    DEALER = "dealer", _("Dealer page")
    OTHER = "other", _("Other page")


# How a person reads the default reasons (a store's own reasons are shown as the store wrote them).
LOST_REASON_LABELS = {
    "bought_competitor": _("Bought a competitor's car"),
    "bought_elsewhere": _("Bought from another dealer"),
    "price": _("Price"),
    "no_longer_buying": _("No longer buying"),
    "unreachable": _("Cannot be reached"),
    "finance_refused": _("Finance refused"),
    "other": _("Other"),
}


def lost_reason_label(code: str) -> str:
    return str(LOST_REASON_LABELS.get(code, code))


class RecordKind(models.TextChoices):
    """What a conversation record attached to an activity is."""

    RECORDING = "recording", _("Call recording")
    CHAT = "chat", _("Chat excerpt")
