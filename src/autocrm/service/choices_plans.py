"""Choices of prepaid plans (保养套餐), extended warranty (延保), accessories (精品/改装) and insurer
direct billing (直赔). Kept apart from ``choices.py`` so the after-sales helpers' changes merge."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Prepaid maintenance plan")
    WARRANTY = "warranty", _("Extended warranty")


class PlanSource(models.TextChoices):
    DELIVERY = "delivery", _("With the car at delivery")
    AFTERSALES = "aftersales", _("Sold in after-sales")


class VehiclePlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    USED_UP = "used_up", _("Used up")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class AccessoryCategory(models.TextChoices):
    ACCESSORY = "accessory", _("Accessory")
    MODIFICATION = "modification", _("Modification")


class ShareKind(models.TextChoices):
    AMOUNT = "amount", _("Amount")
    PERCENT = "percent", _("Percentage")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
