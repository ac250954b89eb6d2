"""Loyalty (会员): the store's programme and tiers, members with a cached points balance next to
an append-only points ledger (ADR 0020's pattern, ADR 0034), coupon types and one-time coupons,
the loyalty a bill uses, qualifying spend for the tiers, and referrals.

``Membership.points_balance`` is the sum of the member's ``PointsEntry.points``, changed only by
``loyalty.services`` in the same transaction as the entry with one conditional ``UPDATE``; a CHECK
constraint keeps it at or above zero. Earned entries keep what is left of them (``remaining``),
spent and expired first-in-first-out."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import (
    ApplicationStatus,
    CouponKind,
    CouponRule,
    CouponStatus,
    GiftRedemptionStatus,
    PointsSource,
    ReferralStatus,
    SpendCategory,
    TierBasis,
)


def default_earn_rates() -> dict[str, str]:
    return {"labour": "1", "parts": "1", "vehicle": "0.1", "partner": "1"}


class Programme(TenantModel):
    """The store's loyalty programme: points per yuan by spend category, what a point is worth,
    how long points live, how much of a bill points may pay, where the tier discount applies, the
    downgrade grace and the referral reward."""

    name = models.CharField(_("name"), max_length=60, default="")
    earn_rates = models.JSONField(_("points per yuan by spend category"), default=default_earn_rates)
    point_value = models.DecimalField(_("value of one point (yuan)"), max_digits=6, decimal_places=4,
                                      default=Decimal("0.01"))  # fmt: skip
    max_points_share = models.PositiveSmallIntegerField(_("share of a bill points may pay (%)"), default=50)
    expiry_months = models.PositiveSmallIntegerField(_("points expire after (months)"), default=24)
    tier_basis = models.CharField(_("tier discount applies to"), max_length=8, choices=TierBasis.choices,
                                  default=TierBasis.BILL)  # fmt: skip
    grace_days = models.PositiveSmallIntegerField(_("downgrade grace (days)"), default=30)
    referral_reward = models.DecimalField(
        _("referral voucher (yuan)"), max_digits=12, decimal_places=2, default=Decimal("100")
    )
    referral_spend_credit = models.DecimalField(_("tier credit per referral (yuan)"), max_digits=12, decimal_places=2,
                                                default=Decimal("1000"))  # fmt: skip
    welcome_percent = models.PositiveSmallIntegerField(_("welcome offer: first service off (%)"), default=20)
    # points toward a new car (抵扣购车款, ADR 0039): at most this share of the price and this amount
    deal_points_percent = models.PositiveSmallIntegerField(_("share of a car's price points may pay (%)"), default=5)
    deal_points_max = models.DecimalField(_("most points may pay on a car (yuan)"), max_digits=12, decimal_places=2,
                                          default=Decimal("5000"))  # fmt: skip

    class Meta:
        verbose_name = _("loyalty programme")
        verbose_name_plural = _("loyalty programmes")
        constraints = [models.UniqueConstraint(fields=["store"], name="loyalty_programme_one_per_store")]

    def __str__(self) -> str:
        return self.name or str(_("Loyalty programme"))


class Tier(TenantModel):
    """A membership tier reached by rolling 12-month spend: its discount, free services (a coupon
    type issued on reaching it), priority booking and a dedicated manager."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="tiers")
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=40)
    rank = models.PositiveSmallIntegerField(_("rank"))
    min_spend = models.DecimalField(_("12-month spend from"), max_digits=12, decimal_places=2)
    discount_percent = models.PositiveSmallIntegerField(_("discount (%)"), default=0)
    free_service = models.ForeignKey("CouponType", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("free service"))  # fmt: skip
    priority_booking = models.BooleanField(_("priority booking"), default=False)
    dedicated_manager = models.BooleanField(_("dedicated manager"), default=False)

    audit_enabled = (
        False  # made with the programme; changes are audited as loyalty.programme_update / coupon_type_create
    )

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="loyalty_tier_code"),
            models.UniqueConstraint(fields=["programme", "rank"], name="loyalty_tier_rank"),
            models.CheckConstraint(condition=models.Q(discount_percent__lte=100), name="loyalty_tier_discount_pct"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """One customer's membership of the store's programme: tier, rolling spend, the cached points
    balance (never negative), a pending downgrade and the referral code."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("tier"))  # fmt: skip
    spend_12m = models.DecimalField(_("12-month spend"), max_digits=12, decimal_places=2, default=Decimal("0"))
    points_balance = models.IntegerField(_("points"), default=0)
    downgrade_to = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("downgrade to"))  # fmt: skip
    downgrade_on = models.DateField(_("downgrade on"), null=True, blank=True)
    referral_code = models.CharField(_("referral code"), max_length=12)
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("dedicated manager"))  # fmt: skip
    evaluated_on = models.DateField(_("evaluated on"), null=True, blank=True)

    scope_owner_field = "customer__consultant"  # a sales consultant sees the members among their customers

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["store", "customer"], name="loyalty_member_once_per_store"),
            models.UniqueConstraint(fields=["referral_code"], name="loyalty_referral_code_unique"),
            models.CheckConstraint(condition=models.Q(points_balance__gte=0), name="loyalty_points_not_negative"),
        ]
        indexes = [models.Index(fields=["store", "tier", "id"], name="loyalty_member_store_tier")]

    def __str__(self) -> str:
        return f"#{self.pk}"


class PointsEntry(TenantModel):
    """One movement of a member's points (signed), the balance after it, its source and
    reference. An earning keeps ``remaining`` (not yet spent or expired) and ``expires_on``."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="entries")
    points = models.IntegerField(_("points"))
    balance_after = models.IntegerField(_("balance after"))
    source = models.CharField(_("source"), max_length=12, choices=PointsSource.choices)
    source_ref = models.CharField(_("reference"), max_length=60, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", verbose_name=_("approved by"))  # fmt: skip
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("by"))  # fmt: skip
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, blank=True)
    remaining = models.IntegerField(_("left to spend"), default=0)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    audit_enabled = False  # an append-only trail of its own (actor, time, reason)

    scope_owner_field = "membership__customer__consultant"

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="loyalty_points_idempotency",
            ),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="loyalty_entry_balance_not_negative"),
            models.CheckConstraint(condition=models.Q(remaining__gte=0), name="loyalty_entry_remaining_not_negative"),
        ]
        indexes = [
            models.Index(fields=["membership", "-id"], name="loyalty_entry_member"),
            models.Index(
                fields=["membership", "expires_on"], condition=models.Q(remaining__gt=0), name="loyalty_entry_expiring"
            ),
        ]


class SpendEntry(TenantModel):
    """Qualifying spend for the tiers: a paid bill's amount, a car bought, a referral's credit."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="spend")
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    category = models.CharField(_("category"), max_length=10, choices=SpendCategory.choices)
    source_ref = models.CharField(_("reference"), max_length=60)
    occurred_at = models.DateTimeField(_("at"))

    audit_enabled = False

    scope_owner_field = "membership__customer__consultant"

    class Meta:
        verbose_name = _("qualifying spend")
        verbose_name_plural = _("qualifying spend")
        constraints = [
            models.UniqueConstraint(fields=["membership", "source_ref", "category"], name="loyalty_spend_once"),
        ]
        indexes = [models.Index(fields=["membership", "occurred_at"], name="loyalty_spend_member_at")]


class CouponType(TenantModel):
    """A kind of coupon the store issues: amount off, percentage off or a free service, with its
    conditions (minimum spend, service code, store), validity and per-customer limit."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=12, choices=CouponKind.choices)
    value = models.DecimalField(
        _("value"), max_digits=12, decimal_places=2
    )  # yuan off, percent off, or the free service's worth
    service_code = models.CharField(_("service code"), max_length=20, blank=True)
    min_spend = models.DecimalField(_("minimum spend"), max_digits=12, decimal_places=2, default=Decimal("0"))
    valid_days = models.PositiveSmallIntegerField(_("valid for (days)"), default=90)
    valid_until = models.DateField(_("issued until"), null=True, blank=True)
    per_customer_limit = models.PositiveSmallIntegerField(_("per customer"), default=0)  # 0: no limit
    rule = models.CharField(_("issued"), max_length=10, choices=CouponRule.choices, default=CouponRule.MANUAL)
    is_active = models.BooleanField(_("active"), default=True)

    audit_enabled = (
        False  # made with the programme; changes are audited as loyalty.programme_update / coupon_type_create
    )

    class Meta:
        verbose_name = _("coupon type")
        verbose_name_plural = _("coupon types")
        constraints = [models.UniqueConstraint(fields=["store", "code"], name="loyalty_coupon_type_code")]

    def __str__(self) -> str:
        return self.name


class Coupon(TenantModel):
    """One coupon of one customer, with its one-time code; redeemed at most once."""

    type = models.ForeignKey(CouponType, on_delete=models.PROTECT, related_name="coupons",
                             verbose_name=_("coupon type"))  # fmt: skip
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=16)
    status = models.CharField(_("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.ISSUED)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_ref = models.CharField(_("redeemed for"), max_length=60, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("issued by"))  # fmt: skip
    source_ref = models.CharField(_("issued for"), max_length=60, blank=True)

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        constraints = [
            models.UniqueConstraint(fields=["code"], name="loyalty_coupon_code_unique"),
            models.UniqueConstraint(
                fields=["type", "customer", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="loyalty_coupon_once_per_cause",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "status", "-id"], name="loyalty_coupon_store_status"),
            models.Index(fields=["customer", "status"], name="loyalty_coupon_customer"),
        ]

    def __str__(self) -> str:
        return self.code


class BillLoyalty(TenantModel):
    """What a repair order's bill is to use: a coupon and points, chosen before the bill is made;
    consumed in the payment's transaction, given back when the bill is voided."""

    repair_order_id = models.PositiveIntegerField(_("repair order"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("coupon"))  # fmt: skip
    points = models.PositiveIntegerField(_("points"), default=0)
    status = models.CharField(_("status"), max_length=8, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT)  # fmt: skip
    bill_id = models.PositiveIntegerField(_("bill"), null=True, blank=True)
    points_used = models.PositiveIntegerField(_("points used"), default=0)
    points_earned = models.PositiveIntegerField(_("points earned"), default=0)

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("loyalty on a bill")
        verbose_name_plural = _("loyalty on bills")
        constraints = [models.UniqueConstraint(fields=["store", "repair_order_id"], name="loyalty_bill_once")]


class Referral(TenantModel):
    """A friend who came with a member's referral code: rewarded once, when the friend buys a car
    or first services."""

    referrer = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="referrals")
    code = models.CharField(_("referral code"), max_length=12)
    lead_id = models.PositiveIntegerField(_("lead"), null=True, blank=True)
    friend = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("friend"))  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices,
                              default=ReferralStatus.PENDING)  # fmt: skip
    rewarded_at = models.DateTimeField(_("rewarded at"), null=True, blank=True)
    rewarded_for = models.CharField(_("rewarded for"), max_length=60, blank=True)

    scope_owner_field = "referrer__customer__consultant"

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "lead_id"],
                condition=models.Q(lead_id__isnull=False),
                name="loyalty_referral_lead_once",
            ),
            models.UniqueConstraint(
                fields=["store", "friend"],
                condition=models.Q(friend__isnull=False),
                name="loyalty_referral_friend_once",
            ),
        ]
        indexes = [models.Index(fields=["store", "status", "-id"], name="loyalty_referral_store_status")]


class DealPoints(TenantModel):
    """The points a consultant applied toward a new car on a deal (抵扣购车款): chosen while the
    deal is open, taken once when its order is placed, given back once if it is cancelled. Loyalty
    cannot read the deal: it knows its id, store and customer (``core.bill_hooks``)."""

    deal_id = models.PositiveIntegerField(_("deal"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    points = models.PositiveIntegerField(_("points"), default=0)
    status = models.CharField(_("status"), max_length=8, choices=ApplicationStatus.choices,
                              default=ApplicationStatus.DRAFT)  # fmt: skip
    points_used = models.PositiveIntegerField(_("points used"), default=0)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2, default=Decimal("0"))

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("points on a deal")
        verbose_name_plural = _("points on deals")
        constraints = [models.UniqueConstraint(fields=["store", "deal_id"], name="loyalty_deal_points_once")]


class Gift(TenantModel):
    """A gift of the store's catalogue (积分兑换礼品): its points and its stock (never negative)."""

    name = models.CharField(_("name"), max_length=60)
    points = models.PositiveIntegerField(_("points"))
    stock = models.IntegerField(_("stock"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("gift")
        verbose_name_plural = _("gifts")
        constraints = [
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="loyalty_gift_stock_not_negative"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="loyalty_gift_points_positive"),
        ]
        indexes = [models.Index(fields=["store", "is_active", "name"], name="loyalty_gift_store_active")]

    def __str__(self) -> str:
        return self.name


class GiftRedemption(TenantModel):
    """One gift given to a member for points: points and one of stock taken in one transaction;
    cancelled once (both come back)."""

    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("gift"))
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="gift_redemptions")
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=GiftRedemptionStatus.choices,
                              default=GiftRedemptionStatus.REDEEMED)  # fmt: skip
    idempotency_key = models.CharField(_("idempotency key"), max_length=80, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("by"))  # fmt: skip
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    scope_owner_field = "membership__customer__consultant"

    class Meta:
        verbose_name = _("gift redemption")
        verbose_name_plural = _("gift redemptions")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="loyalty_gift_redemption_idem",
            ),
        ]
        indexes = [models.Index(fields=["store", "-id"], name="loyalty_gift_redemption_recent")]
