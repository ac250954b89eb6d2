"""API schemas of loyalty (names prefixed with the domain: unique across the project)."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeAlias

from ninja import Schema

Number: TypeAlias = str | int | float


class LoyaltyTierOut(Schema):
    code: str
    name: str
    rank: int
    min_spend: str
    discount_percent: int
    priority_booking: bool
    dedicated_manager: bool
    free_service: str | None


class LoyaltyProgrammeOut(Schema):
    store: int
    name: str
    earn_rates: dict[str, str]
    point_value: str
    max_points_share: int
    expiry_months: int
    tier_basis: str
    grace_days: int
    referral_reward: str
    referral_spend_credit: str
    welcome_percent: int
    deal_points_percent: int = 5  # points toward a new car: at most this share of the price
    deal_points_max: str = "5000.00"  # and at most this many yuan
    tiers: list[LoyaltyTierOut]


class LoyaltyProgrammePatch(Schema):
    name: str | None = None
    earn_rates: dict[str, Number] | None = None
    point_value: Number | None = None
    max_points_share: int | None = None
    expiry_months: int | None = None
    tier_basis: str | None = None
    grace_days: int | None = None
    referral_reward: Number | None = None
    referral_spend_credit: Number | None = None
    welcome_percent: int | None = None
    deal_points_percent: int | None = None
    deal_points_max: str | None = None
    tiers: list[dict[str, Any]] | None = None


class MembershipIn(Schema):
    customer: int


class MembershipOut(Schema):
    id: int
    store: int
    customer: int
    tier: str | None
    tier_name: str | None
    spend_12m: str
    points: int
    downgrade_to: str | None
    downgrade_on: dt.date | None
    referral_code: str
    created_at: dt.datetime


class MembershipPage(Schema):
    items: list[MembershipOut]
    next_cursor: str | None


class PointsIn(Schema):
    customer: int
    source: str
    points: int
    reason: str | None = None
    reference: str | None = None


class PointsEntryOut(Schema):
    id: int
    customer: int
    points: int
    balance_after: int
    source: str
    reference: str
    reason: str
    approver: int | None
    created_by: int | None
    expires_on: dt.date | None
    created_at: dt.datetime


class PointsPage(Schema):
    balance: int
    items: list[PointsEntryOut]
    next_cursor: str | None


class CouponTypeIn(Schema):
    code: str
    name: str
    kind: str
    value: Number
    service_code: str | None = None
    min_spend: Number | None = None
    valid_days: int | None = None
    valid_until: dt.date | None = None
    per_customer_limit: int | None = None


class CouponTypeOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    value: str
    service_code: str
    min_spend: str
    valid_days: int
    valid_until: dt.date | None
    per_customer_limit: int
    rule: str
    is_active: bool


class CouponTypePage(Schema):
    items: list[CouponTypeOut]
    next_cursor: str | None


class CouponIssueIn(Schema):
    type: str
    customer: int


class CouponRedeemIn(Schema):
    amount: Number | None = None
    service_code: str | None = None
    reference: str | None = None


class CouponOut(Schema):
    id: int
    code: str
    type: str
    type_name: str
    customer: int
    status: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    redeemed_at: dt.datetime | None
    redeemed_ref: str


class CouponPage(Schema):
    items: list[CouponOut]
    next_cursor: str | None


class BillLoyaltyIn(Schema):
    repair_order: int
    customer: int
    coupon: str | None = None
    points: int | None = None


class BillLoyaltyOut(Schema):
    repair_order: int
    customer: int
    coupon: str | None
    points: int
    status: str
    bill: int | None
    points_used: int
    points_earned: int


class ReferralOut(Schema):
    id: int
    referrer: int
    code: str
    lead: int | None
    friend: int | None
    status: str
    rewarded_at: dt.datetime | None
    rewarded_for: str


class ReferralPage(Schema):
    items: list[ReferralOut]
    next_cursor: str | None


class GiftIn(Schema):
    name: str
    points: int
    stock: int = 0
    is_active: bool = True


class GiftPatch(Schema):
    name: str | None = None
    points: int | None = None
    stock: int | None = None
    is_active: bool | None = None


class GiftOut(Schema):
    id: int
    store: int
    name: str
    points: int
    stock: int
    is_active: bool


class GiftPage(Schema):
    items: list[GiftOut]
    next_cursor: str | None


class GiftRedemptionIn(Schema):
    gift: int
    customer: int


class GiftRedemptionOut(Schema):
    id: int
    gift: int
    gift_name: str
    customer: int
    points: int
    status: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None


class GiftRedemptionPage(Schema):
    items: list[GiftRedemptionOut]
    next_cursor: str | None
