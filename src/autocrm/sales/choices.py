from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """The sales process (销售流程), in order. Entering a stage may need evidence (sales.stages)."""

    LEAD = "lead", _("Lead")
    CONTACT = "contact", _("First contact")
    VISIT = "visit", _("Store visit")
    TEST_DRIVE = "test_drive", _("Test drive")
    QUOTE = "quote", _("Quote")
    ORDER = "order", _("Order / contract")
    FINANCE = "finance", _("Finance approval and insurance")
    DELIVERY = "delivery", _("Delivered")


STAGE_ORDER: tuple[str, ...] = tuple(Stage.values)


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won (delivered)")
    LOST = "lost", _("Lost")


class DocumentKind(models.TextChoices):
    TEST_DRIVE_AGREEMENT = "test_drive_agreement", _("Test-drive agreement")
    CONTRACT = "contract", _("Signed contract")
    CONDITION_SHEET = "condition_sheet", _("Vehicle condition sheet")
    PDI = "pdi", _("PDI checklist")
    LICENCE_PHOTO = "licence_photo", _("Driving licence photo")
    TRADE_IN_PHOTO = "trade_in_photo", _("Trade-in photo")
    OTHER = "other", _("Other")


# The upload kind (core.uploads.KINDS) each document kind is checked as.
DOCUMENT_UPLOAD_KIND = {
    DocumentKind.LICENCE_PHOTO: "photo",
    DocumentKind.TRADE_IN_PHOTO: "photo",
}


class PurchaseType(models.TextChoices):
    FIRST = "first", _("First car")
    ADDITIONAL = "additional", _("Additional car")
    REPLACEMENT = "replacement", _("Replacement car")
    UNKNOWN = "", _("Not known yet")


class Sensitivity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    UNKNOWN = "", _("Not known")


class TestDriveStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Ready to present")
    PENDING_APPROVAL = "pending_approval", _("Awaiting manager approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class StockStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    RESERVED = "reserved", _("Reserved")
    SOLD = "sold", _("Sold")
    DEMO = "demo", _("Demo car (test drives)")


class Purpose(models.TextChoices):
    COMMUTE = "commute", _("Commuting")
    FAMILY = "family", _("Family")
    BUSINESS = "business", _("Business")
    LEISURE = "leisure", _("Travel and leisure")
    OTHER = "other", _("Other")
    UNKNOWN = "", _("Not known")
