"""Reads of loyalty, each scoped to the actor (keyset pages, no whole-table COUNT)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.errors import NotFound, ValidationError
from autocrm.core.pagination import Page, paginate
from autocrm.core.permissions import get_in_scope, require_model
from autocrm.customers.models import Customer

from .choices import CouponStatus, ReferralStatus
from .models import Coupon, CouponType, Gift, GiftRedemption, Membership, PointsEntry, Referral


def _int(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(fields={name: [_("Enter a whole number.")]}) from None
    if not 0 < number < 2**31:
        raise ValidationError(fields={name: [_("Enter a whole number.")]})
    return number


def membership_page(*, actor: Actor, customer: Any = None, tier: str | None = None, limit: Any = None,
                    cursor: str | None = None) -> Page:  # fmt: skip
    require_model(actor, "view", Membership)
    qs = Membership.objects.for_actor(actor, "view").select_related("tier", "downgrade_to")
    customer_id = _int(customer, "customer")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if tier:
        qs = qs.filter(tier__code=str(tier)[:20])
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def membership_get(*, actor: Actor, pk: int) -> Membership:
    return get_in_scope(Membership.objects.select_related("tier", "downgrade_to"), actor, pk)


def membership_of(*, actor: Actor, customer_id: Any) -> Membership | None:
    """The member record of a customer the actor sees (None: not a member yet)."""
    require_model(actor, "view", Membership)
    customer = get_in_scope(Customer, actor, customer_id)
    return (Membership.objects.for_actor(actor, "view").select_related("tier", "downgrade_to")
            .filter(customer=customer).first())  # fmt: skip


def points_page(*, actor: Actor, customer: Any, limit: Any = None, cursor: str | None = None) -> tuple[int, Page]:
    """A customer's ledger, newest first, and the balance."""
    require_model(actor, "view", PointsEntry)
    customer_id = _int(customer, "customer")
    if customer_id is None:
        raise ValidationError(fields={"customer": [_("This field is required.")]})
    try:
        member = membership_of(actor=actor, customer_id=customer_id)
    except NotFound:
        raise
    if member is None:
        return 0, Page([], None)
    qs = PointsEntry.objects.for_actor(actor, "view").filter(membership=member)
    return member.points_balance, paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def coupon_page(*, actor: Actor, customer: Any = None, status: str | None = None, limit: Any = None,
                cursor: str | None = None) -> Page:  # fmt: skip
    require_model(actor, "view", Coupon)
    qs = Coupon.objects.for_actor(actor, "view").select_related("type")
    customer_id = _int(customer, "customer")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if status:
        if status not in CouponStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=status)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def coupon_type_page(*, actor: Actor, limit: Any = None, cursor: str | None = None) -> Page:
    require_model(actor, "view", CouponType)
    return paginate(CouponType.objects.for_actor(actor, "view"), ordering=("-id",), limit=limit, cursor=cursor)


def referral_page(*, actor: Actor, status: str | None = None, limit: Any = None, cursor: str | None = None) -> Page:
    require_model(actor, "view", Referral)
    qs = Referral.objects.for_actor(actor, "view").select_related("referrer")
    if status:
        if status not in ReferralStatus.values:
            raise ValidationError(fields={"status": [_("Choose one of the listed values.")]})
        qs = qs.filter(status=status)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def gift_page(*, actor: Actor, active: bool | None = None, limit: Any = None, cursor: str | None = None) -> Page:
    require_model(actor, "view", Gift)
    qs = Gift.objects.for_actor(actor, "view")
    if active is not None:
        qs = qs.filter(is_active=active)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def gift_get(*, actor: Actor, pk: int) -> Gift:
    return get_in_scope(Gift, actor, pk)


def redemption_page(*, actor: Actor, customer: Any = None, limit: Any = None, cursor: str | None = None) -> Page:
    require_model(actor, "view", GiftRedemption)
    qs = GiftRedemption.objects.for_actor(actor, "view").select_related("gift", "membership")
    customer_id = _int(customer, "customer")
    if customer_id is not None:
        qs = qs.filter(membership__customer_id=customer_id)
    return paginate(qs, ordering=("-id",), limit=limit, cursor=cursor)


def redemption_get(*, actor: Actor, pk: int) -> GiftRedemption:
    found = GiftRedemption.objects.for_actor(actor, "view").select_related("gift", "membership").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found
