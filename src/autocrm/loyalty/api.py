"""/api/v1/memberships, /points, /coupons (+ /coupons/{code}/redeem), /coupon-types,
/bill-loyalty, /referrals, /loyalty-programme: thin handlers over loyalty's services and selectors."""

from __future__ import annotations

from typing import Any

from ninja import Header, Router, Status

from autocrm.core.actor import ActorRequest
from autocrm.core.permissions import require

from . import selectors, services
from .models import BillLoyalty, Coupon, CouponType, Gift, GiftRedemption, Membership, PointsEntry, Programme
from .schemas import (
    BillLoyaltyIn,
    BillLoyaltyOut,
    CouponIssueIn,
    CouponOut,
    CouponPage,
    CouponRedeemIn,
    CouponTypeIn,
    CouponTypeOut,
    CouponTypePage,
    GiftIn,
    GiftOut,
    GiftPage,
    GiftPatch,
    GiftRedemptionIn,
    GiftRedemptionOut,
    GiftRedemptionPage,
    LoyaltyProgrammeOut,
    LoyaltyProgrammePatch,
    MembershipIn,
    MembershipOut,
    MembershipPage,
    PointsEntryOut,
    PointsIn,
    PointsPage,
    ReferralPage,
)

router = Router(tags=["loyalty"])
PREFIX = ""


def _d(value: Any) -> str:
    return f"{value:.2f}"


def membership_out(m: Membership) -> dict[str, Any]:
    return {
        "id": m.pk, "store": m.store_id, "customer": m.customer_id, "tier": m.tier.code if m.tier else None,
        "tier_name": m.tier.name if m.tier else None, "spend_12m": _d(m.spend_12m), "points": m.points_balance,
        "downgrade_to": m.downgrade_to.code if m.downgrade_to else None, "downgrade_on": m.downgrade_on,
        "referral_code": m.referral_code, "created_at": m.created_at,
    }  # fmt: skip


def entry_out(e: PointsEntry, customer_id: int) -> dict[str, Any]:
    return {
        "id": e.pk, "customer": customer_id, "points": e.points, "balance_after": e.balance_after, "source": e.source,
        "reference": e.source_ref, "reason": e.reason, "approver": e.approver_id, "created_by": e.created_by_id,
        "expires_on": e.expires_on, "created_at": e.created_at,
    }  # fmt: skip


def coupon_out(c: Coupon) -> dict[str, Any]:
    return {
        "id": c.pk, "code": c.code, "type": c.type.code, "type_name": c.type.name, "customer": c.customer_id,
        "status": c.status, "valid_from": c.valid_from, "valid_until": c.valid_until, "redeemed_at": c.redeemed_at,
        "redeemed_ref": c.redeemed_ref,
    }  # fmt: skip


def coupon_type_out(t: CouponType) -> dict[str, Any]:
    return {
        "id": t.pk, "code": t.code, "name": t.name, "kind": t.kind, "value": _d(t.value), "service_code": t.service_code,
        "min_spend": _d(t.min_spend), "valid_days": t.valid_days, "valid_until": t.valid_until,
        "per_customer_limit": t.per_customer_limit, "rule": t.rule, "is_active": t.is_active,
    }  # fmt: skip


def programme_out(p: Programme) -> dict[str, Any]:
    tiers = [
        {"code": t.code, "name": t.name, "rank": t.rank, "min_spend": _d(t.min_spend),
         "discount_percent": t.discount_percent, "priority_booking": t.priority_booking,
         "dedicated_manager": t.dedicated_manager, "free_service": t.free_service.code if t.free_service else None}
        for t in p.tiers.select_related("free_service").order_by("rank")
    ]  # fmt: skip
    return {
        "store": p.store_id, "name": p.name, "earn_rates": {k: str(v) for k, v in (p.earn_rates or {}).items()},
        "point_value": f"{p.point_value:.4f}", "max_points_share": p.max_points_share,
        "expiry_months": p.expiry_months, "tier_basis": p.tier_basis, "grace_days": p.grace_days,
        "referral_reward": _d(p.referral_reward), "referral_spend_credit": _d(p.referral_spend_credit),
        "welcome_percent": p.welcome_percent, "tiers": tiers, "deal_points_percent": p.deal_points_percent,
        "deal_points_max": _d(p.deal_points_max),
    }  # fmt: skip


def application_out(a: BillLoyalty) -> dict[str, Any]:
    return {
        "repair_order": a.repair_order_id, "customer": a.customer_id, "coupon": a.coupon.code if a.coupon else None,
        "points": a.points, "status": a.status, "bill": a.bill_id, "points_used": a.points_used,
        "points_earned": a.points_earned,
    }  # fmt: skip


# --- the programme -----------------------------------------------------------------------------


@router.get("/loyalty-programme", response=LoyaltyProgrammeOut)
def programme_get(request: ActorRequest) -> dict[str, Any]:
    """The current store's programme: earning rates, point value, expiry, tiers and benefits."""
    programme = services.programme_for(request.actor.require_store_id())
    require(request.actor, "view", programme)
    return programme_out(programme)


@router.patch("/loyalty-programme", response=LoyaltyProgrammeOut)
def programme_patch(request: ActorRequest, payload: LoyaltyProgrammePatch) -> dict[str, Any]:
    return programme_out(services.programme_update(actor=request.actor, data=payload.dict(exclude_unset=True)))


# --- members -----------------------------------------------------------------------------------


@router.get("/memberships", response=MembershipPage)
def membership_list(request: ActorRequest, customer: int | None = None, tier: str | None = None,
                    limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = selectors.membership_page(actor=request.actor, customer=customer, tier=tier, limit=limit, cursor=cursor)
    return {"items": [membership_out(m) for m in page.items], "next_cursor": page.next_cursor}


@router.post("/memberships", response={200: MembershipOut, 201: MembershipOut})
def membership_enrol(request: ActorRequest, payload: MembershipIn) -> Status[dict[str, Any]]:
    """Enrol a customer (the welcome offer is issued); an existing member is answered with 200."""
    member, created = services.membership_enrol(actor=request.actor, customer_id=payload.customer)
    return Status(201 if created else 200, membership_out(selectors.membership_get(actor=request.actor, pk=member.pk)))


@router.get("/memberships/{int:membership_id}", response=MembershipOut)
def membership_get(request: ActorRequest, membership_id: int) -> dict[str, Any]:
    return membership_out(selectors.membership_get(actor=request.actor, pk=membership_id))


# --- points ------------------------------------------------------------------------------------


@router.get("/points", response=PointsPage)
def points_list(request: ActorRequest, customer: int, limit: int | None = None,
                cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A customer's points ledger, newest first, with the balance (the sum of the movements)."""
    balance, page = selectors.points_page(actor=request.actor, customer=customer, limit=limit, cursor=cursor)
    return {"balance": balance, "items": [entry_out(e, customer) for e in page.items], "next_cursor": page.next_cursor}


@router.post("/points", response={200: PointsEntryOut, 201: PointsEntryOut})
def points_post(request: ActorRequest, payload: PointsIn,
                idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:  # fmt: skip
    """A movement: ``partner`` points, a manual ``adjustment`` (signed, with a reason) or a
    ``redemption`` for a gift. Needs an ``Idempotency-Key`` header: the same key again answers
    the first movement (200) and changes nothing. More than the balance → 409 ``points``."""
    result = services.points_post(actor=request.actor, data=payload.dict(), idempotency_key=idempotency_key)
    return Status(201 if result.created else 200, entry_out(result.entry, payload.customer))


# --- coupons -----------------------------------------------------------------------------------


@router.get("/coupon-types", response=CouponTypePage)
def coupon_type_list(request: ActorRequest, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
    page = selectors.coupon_type_page(actor=request.actor, limit=limit, cursor=cursor)
    return {"items": [coupon_type_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.post("/coupon-types", response={201: CouponTypeOut})
def coupon_type_create(request: ActorRequest, payload: CouponTypeIn) -> Status[dict[str, Any]]:
    data = payload.dict(exclude_none=True)
    return Status(201, coupon_type_out(services.coupon_type_create(actor=request.actor, data=data)))


@router.get("/coupons", response=CouponPage)
def coupon_list(request: ActorRequest, customer: int | None = None, status: str | None = None,
                limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = selectors.coupon_page(actor=request.actor, customer=customer, status=status, limit=limit, cursor=cursor)
    return {"items": [coupon_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/coupons", response={201: CouponOut})
def coupon_issue(request: ActorRequest, payload: CouponIssueIn) -> Status[dict[str, Any]]:
    """Issue one coupon of a store's type to a customer (the per-customer limit holds: 409)."""
    return Status(201, coupon_out(services.coupon_issue(actor=request.actor, data=payload.dict())))


@router.post("/coupons/{code}/redeem", response=CouponOut)
def coupon_redeem(request: ActorRequest, code: str, payload: CouponRedeemIn) -> dict[str, Any]:
    """Redeem a coupon at the till, once: used, expired, not yet valid or unmet conditions → 409
    naming ``coupon``; two tills at once → one 200 and one 409."""
    return coupon_out(services.coupon_redeem(actor=request.actor, code=code, data=payload.dict(exclude_none=True)))


# --- the gift catalogue -------------------------------------------------------------------------


def gift_out(g: Gift) -> dict[str, Any]:
    return {"id": g.pk, "store": g.store_id, "name": g.name, "points": g.points, "stock": g.stock,
            "is_active": g.is_active}  # fmt: skip


def redemption_out(r: GiftRedemption) -> dict[str, Any]:
    return {"id": r.pk, "gift": r.gift_id, "gift_name": r.gift.name, "customer": r.membership.customer_id,
            "points": r.points, "status": r.status, "created_at": r.created_at,
            "cancelled_at": r.cancelled_at}  # fmt: skip


@router.get("/gifts", response=GiftPage)
def gift_list(request: ActorRequest, active: bool | None = None, limit: int | None = None,
              cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The store's gift catalogue (积分兑换礼品), newest first."""
    page = selectors.gift_page(actor=request.actor, active=active, limit=limit, cursor=cursor)
    return {"items": [gift_out(g) for g in page.items], "next_cursor": page.next_cursor}


@router.post("/gifts", response={201: GiftOut})
def gift_create(request: ActorRequest, payload: GiftIn) -> Status[dict[str, Any]]:
    """Add a gift (the store manager): name, points, stock, active."""
    return Status(201, gift_out(services.gift_save(actor=request.actor, data=payload.dict())))


@router.patch("/gifts/{int:gift_id}", response=GiftOut)
def gift_patch(request: ActorRequest, gift_id: int, payload: GiftPatch) -> dict[str, Any]:
    gift = selectors.gift_get(actor=request.actor, pk=gift_id)
    return gift_out(services.gift_save(actor=request.actor, gift=gift, data=payload.dict(exclude_unset=True)))


@router.get("/gift-redemptions", response=GiftRedemptionPage)
def gift_redemption_list(request: ActorRequest, customer: int | None = None, limit: int | None = None,
                         cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = selectors.redemption_page(actor=request.actor, customer=customer, limit=limit, cursor=cursor)
    return {"items": [redemption_out(r) for r in page.items], "next_cursor": page.next_cursor}


@router.post("/gift-redemptions", response={200: GiftRedemptionOut, 201: GiftRedemptionOut})
def gift_redeem(request: ActorRequest, payload: GiftRedemptionIn,
                idempotency_key: str = Header("", alias="Idempotency-Key")) -> Status[dict[str, Any]]:  # fmt: skip
    """Redeem a gift for a customer: the gift's points and one of its stock, at once. Out of stock
    → 409 ``gift``; short of points → 409 ``points``; the same ``Idempotency-Key`` again → 200, the first."""
    result = services.gift_redeem(actor=request.actor, data=payload.dict(), idempotency_key=idempotency_key)
    row = selectors.redemption_get(actor=request.actor, pk=result.redemption.pk)
    return Status(201 if result.created else 200, redemption_out(row))


@router.post("/gift-redemptions/{int:redemption_id}/cancel", response=GiftRedemptionOut)
def gift_redemption_cancel(request: ActorRequest, redemption_id: int) -> dict[str, Any]:
    """Cancel a redemption once: points and stock come back (again → 409 ``redemption``)."""
    row = selectors.redemption_get(actor=request.actor, pk=redemption_id)
    services.gift_redemption_cancel(actor=request.actor, redemption=row)
    return redemption_out(selectors.redemption_get(actor=request.actor, pk=redemption_id))


# --- bills -------------------------------------------------------------------------------------


@router.put("/bill-loyalty", response=BillLoyaltyOut)
def bill_loyalty_put(request: ActorRequest, payload: BillLoyaltyIn) -> dict[str, Any]:
    """Choose the coupon and points a repair order's bill is to use: the bill, made at 待结算,
    applies tier discount → coupon → points; paying it consumes them."""
    application = services.bill_loyalty_set(actor=request.actor, data=payload.dict())
    return application_out(application)


# --- referrals ---------------------------------------------------------------------------------


@router.get("/referrals", response=ReferralPage)
def referral_list(request: ActorRequest, status: str | None = None, limit: int | None = None,
                  cursor: str | None = None) -> dict[str, Any]:  # fmt: skip
    page = selectors.referral_page(actor=request.actor, status=status, limit=limit, cursor=cursor)
    items = [
        {"id": r.pk, "referrer": r.referrer.customer_id, "code": r.code, "lead": r.lead_id, "friend": r.friend_id,
         "status": r.status, "rewarded_at": r.rewarded_at, "rewarded_for": r.rewarded_for}
        for r in page.items
    ]  # fmt: skip
    return {"items": items, "next_cursor": page.next_cursor}
