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
