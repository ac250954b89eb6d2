"""Events loyalty emits (``core.events``), each after its transaction commits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class MemberJoined:
    membership_id: int
    customer_id: int


@dataclass(frozen=True)
class TierChanged:
    membership_ids: tuple[int, ...]  # one event per kind of change and chunk of the nightly sweep
    upgraded: bool
    downgrade_on: dt.date | None  # set: a notice that the member goes down on that day


@dataclass(frozen=True)
class CouponRedeemed:
    coupon_id: int
    customer_id: int
    reference: str


@dataclass(frozen=True)
class ReferralRewarded:
    referral_id: int
    referrer_id: int
    friend_id: int


MEMBER_JOINED = define_event("loyalty.member_joined", MemberJoined, _("A customer joined the loyalty programme."))
TIER_CHANGED = define_event("loyalty.tier_changed", TierChanged, _("A member's tier changed or will go down."))
COUPON_REDEEMED = define_event("loyalty.coupon_redeemed", CouponRedeemed, _("A coupon was redeemed at the till."))
REFERRAL_REWARDED = define_event(
    "loyalty.referral_rewarded", ReferralRewarded, _("Both sides of a referral were rewarded.")
)
