from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    PIECE = "piece", _("Piece")
    SET = "set", _("Set")
    LITRE = "litre", _("Litre")
    BOTTLE = "bottle", _("Bottle")
    BARREL = "barrel", _("Barrel")


class Category(models.TextChoices):
    OIL = "oil", _("Oils and fluids")
    FILTER = "filter", _("Filters")
    BRAKE = "brake", _("Brakes")
    IGNITION = "ignition", _("Ignition")
    WIPER = "wiper", _("Wipers")
    BATTERY = "battery", _("Batteries")
    TYRE = "tyre", _("Tyres")
    SUSPENSION = "suspension", _("Suspension and steering")
    ELECTRICAL = "electrical", _("Electrical and lighting")
    BODY = "body", _("Body and trim")
    OTHER = "other", _("Other")


class MovementKind(models.TextChoices):
    """One row of the stock ledger. ``quantity`` is signed: receipts, returns and incoming
    transfers add; issues and outgoing transfers take away; an adjustment goes either way."""

    RECEIPT = "receipt", _("Receipt")
    ISSUE = "issue", _("Issue to repair order")
    RETURN = "return", _("Return from repair order")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER_OUT = "transfer_out", _("Transfer to another store")
    TRANSFER_IN = "transfer_in", _("Transfer from another store")


class ReservationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ISSUED = "issued", _("Issued")
    RELEASED = "released", _("Released")


class POStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    PARTLY_RECEIVED = "partly_received", _("Partly received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")
