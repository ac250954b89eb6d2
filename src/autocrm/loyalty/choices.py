from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PointsSource(models.TextChoices):
    BILL = "bill", _("Bill")
    REFERRAL = "referral", _("Referral")
    PARTNER = "partner", _("Partner spend")
    REDEMPTION = "redemption", _("Redemption")
    EXPIRY = "expiry", pgettext_lazy("points", "Expiry")
    ADJUSTMENT = "adjustment", _("Manual adjustment")
    EVENT = "event", _("Car club event")
    GIFT = "gift", _("Gift")
    REVERSAL = "reversal", _("Reversal of a voided bill")
    DEAL = "deal", _("Toward a new car")
    GIFT_REDEEM = "gift_redeem", _("Gift from the catalogue")


class SpendCategory(models.TextChoices):
    LABOUR = "labour", _("Labour")
    PARTS = "parts", pgettext_lazy("spend", "Parts")
    VEHICLE = "vehicle", _("Vehicle purchase")
    PARTNER = "partner", _("Partner spend")
    REFERRAL = "referral", _("Referral credit")


class CouponKind(models.TextChoices):
    AMOUNT = "amount", _("Amount off")
    PERCENT = "percent", _("Percentage off")
    FREE_SERVICE = "free_service", _("Free service")


class CouponRule(models.TextChoices):
    MANUAL = "manual", _("Issued by hand")
    WELCOME = "welcome", _("Welcome offer for new members")
    REFERRAL = "referral", _("Referral reward")
    TIER = "tier", _("Tier benefit")


class CouponStatus(models.TextChoices):
    ISSUED = "issued", pgettext_lazy("coupon", "Issued")
    REDEEMED = "redeemed", pgettext_lazy("coupon", "Redeemed")
    VOID = "void", pgettext_lazy("coupon", "Void")


class TierBasis(models.TextChoices):
    BILL = "bill", _("The whole bill")
    LABOUR = "labour", _("Labour only")


class ReferralStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("referral", "Pending")
    REWARDED = "rewarded", pgettext_lazy("referral", "Rewarded")


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("bill loyalty", "Chosen")
    SETTLED = "settled", pgettext_lazy("bill loyalty", "Settled")
    VOIDED = "voided", pgettext_lazy("bill loyalty", "Voided")


class GiftRedemptionStatus(models.TextChoices):
    REDEEMED = "redeemed", pgettext_lazy("gift", "Redeemed")
    CANCELLED = "cancelled", pgettext_lazy("gift", "Cancelled")
