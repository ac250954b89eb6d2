"""Loyalty services (ADR 0034): the programme and its tiers, members, the points ledger, coupons,
what a bill uses and what it earns, the nightly tier re-evaluation and points expiry, referrals.

Balances never go negative: a points movement is one conditional ``UPDATE`` of the member's
cached balance (zero rows → 409 naming ``points``) and a ledger row in the same transaction; a
coupon is redeemed by one conditional ``UPDATE … WHERE status = 'issued'`` (zero rows → 409 naming
``coupon``), so two tills redeeming one code at once give one redemption and one 409."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, inputs
from autocrm.core.actor import Actor
from autocrm.core.bill_hooks import BillContext, BillSettlement, DealContext, DealSettlement, Discount
from autocrm.core.errors import Conflict, NotFound, ValidationError
from autocrm.core.events import emit
from autocrm.core.permissions import get_in_scope, require, require_model
from autocrm.customers.models import Customer

from . import events
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
from .models import (
    BillLoyalty,
    Coupon,
    CouponType,
    DealPoints,
    Gift,
    GiftRedemption,
    Membership,
    PointsEntry,
    Programme,
    Referral,
    SpendEntry,
    Tier,
)

log = logging.getLogger(__name__)

FEN = Decimal("0.01")
MAX_POINTS = 10_000_000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a till
BILL_REF = "service.bill:{}"

# The defaults of SPEC.md §5: silver ≥ ¥3,000 9折, gold ≥ ¥8,000 8折 + free wheel alignment,
# diamond ≥ ¥15,000 7折 + a dedicated manager (and priority booking).
DEFAULT_TIERS = (
    ("silver", _("Silver"), 1, Decimal("3000"), 10, False, False),
    ("gold", _("Gold"), 2, Decimal("8000"), 20, True, False),
    ("diamond", _("Diamond"), 3, Decimal("15000"), 30, True, True),
)


def _conflict(field: str, message: Any, **extra: Any) -> Conflict:
    return Conflict(message, fields={field: [message]}, extra=extra)


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def new_code(length: int = 10) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def today() -> dt.date:
    return timezone.localdate()


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31,
            30, 31][month - 1]  # fmt: skip
    return dt.date(year, month, min(day.day, last))


# --- the programme -----------------------------------------------------------------------------


def programme_for(store_id: int) -> Programme:
    """The store's programme, made with the default tiers and coupon types on first use."""
    found = Programme.objects.filter(store_id=store_id).first()  # scoped: the caller's store
    if found is not None:
        return found
    with transaction.atomic():
        try:
            with transaction.atomic():
                programme = Programme.objects.create(store_id=store_id, name=gettext("Membership"))
        except IntegrityError:  # made by a concurrent first use
            return Programme.objects.get(store_id=store_id)  # scoped: same
        align = CouponType.objects.create(
            store_id=store_id, code="ALIGN", name=gettext("Free wheel alignment"), kind=CouponKind.FREE_SERVICE,
            value=Decimal("200"), service_code="ALIGN", valid_days=365, per_customer_limit=0, rule=CouponRule.TIER)  # fmt: skip
        CouponType.objects.create(
            store_id=store_id, code="WELCOME", name=gettext("Welcome: first service 20 percent off"),
            kind=CouponKind.PERCENT, value=Decimal(programme.welcome_percent), valid_days=180, per_customer_limit=1,
            rule=CouponRule.WELCOME)  # fmt: skip
        CouponType.objects.create(
            store_id=store_id, code="REFERRAL", name=gettext("Referral voucher"), kind=CouponKind.AMOUNT,
            value=programme.referral_reward, valid_days=365, per_customer_limit=0, rule=CouponRule.REFERRAL)  # fmt: skip
        for code, name, rank, spend, pct, priority, manager in DEFAULT_TIERS:
            Tier.objects.create(store_id=store_id, programme=programme, code=code, name=str(name), rank=rank,
                                min_spend=spend, discount_percent=pct, priority_booking=priority,
                                dedicated_manager=manager, free_service=align if code == "gold" else None)  # fmt: skip
    return programme


def tiers_of(store_id: int) -> list[Tier]:
    return list(Tier.objects.filter(store_id=store_id).order_by("rank"))  # scoped: the caller's store


@transaction.atomic
def programme_update(*, actor: Actor, data: Mapping[str, Any]) -> Programme:
    """Change the store's programme settings and its tiers' thresholds and discounts."""
    programme = programme_for(actor.require_store_id())
    require(actor, "change", programme)
    errors = inputs.Errors()
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = inputs.text(errors, data, "name", 60, required=True)
    for name, low, high in (("max_points_share", 0, 100), ("expiry_months", 1, 120), ("grace_days", 0, 365),
                            ("welcome_percent", 0, 90), ("deal_points_percent", 0, 100)):  # fmt: skip
        if name in data:
            value = inputs.integer(errors, data.get(name), name, low, high)
            if value is None and name not in errors.fields:
                errors.add(name, _("This field is required."))
            changes[name] = value
    for name in ("referral_reward", "referral_spend_credit", "deal_points_max"):
        if name in data:
            changes[name] = inputs.money(errors, data.get(name), name, required=True)
    if "point_value" in data:
        changes["point_value"] = inputs.decimal(errors, data, "point_value", high=Decimal("1"), positive=True)
    if "tier_basis" in data:
        changes["tier_basis"] = inputs.choice(errors, data, "tier_basis", TierBasis)
    if "earn_rates" in data:
        rates = data.get("earn_rates")
        clean: dict[str, str] = {}
        if not isinstance(rates, Mapping):
            errors.add("earn_rates", _("Give points per yuan for each spend category."))
        else:
            for category, rate in rates.items():
                if category not in SpendCategory.values:
                    errors.add("earn_rates", _("Unknown spend category: %(c)s") % {"c": str(category)[:20]})
                    continue
                rate_value = inputs.decimal(errors, {category: rate}, category, high=Decimal("100"))
                if rate_value is not None:
                    clean[category] = str(rate_value)
        changes["earn_rates"] = clean
    tier_changes = _tier_changes(errors, programme, data.get("tiers"))
    errors.raise_if_any()
    before = {k: str(getattr(programme, k)) for k in changes}
    for key, value in changes.items():
        setattr(programme, key, value)
    programme.save()
    for tier, fields in tier_changes:
        for key, value in fields.items():
            before[f"{tier.code}.{key}"] = str(getattr(tier, key))
            changes[f"{tier.code}.{key}"] = value
            setattr(tier, key, value)
        tier.save()
    audit.record("loyalty.programme_update", obj=programme, actor=actor,
                 changes={k: [before[k], str(v)] for k, v in changes.items()})  # fmt: skip
    return programme


def _tier_changes(errors: inputs.Errors, programme: Programme, rows: Any) -> list[tuple[Tier, dict[str, Any]]]:
    if rows is None:
        return []
    if not isinstance(rows, list):
        errors.add("tiers", _("Give a list of tiers."))
        return []
    tiers = {t.code: t for t in Tier.objects.filter(programme=programme)}  # scoped: the programme's
    out: list[tuple[Tier, dict[str, Any]]] = []
    for row in rows:
        tier = tiers.get(str(row.get("code"))) if isinstance(row, Mapping) else None
        if tier is None or not isinstance(row, Mapping):
            errors.add("tiers", _("Unknown tier."))
            continue
        fields: dict[str, Any] = {}
        if "min_spend" in row:
            fields["min_spend"] = inputs.money(errors, row.get("min_spend"), "tiers", required=True)
        if "discount_percent" in row:
            fields["discount_percent"] = inputs.integer(errors, row.get("discount_percent"), "tiers", 0, 90)
        if "name" in row:
            fields["name"] = inputs.text(errors, row, "name", 40, required=True)
        out.append((tier, fields))
    spends = {t.code: t.min_spend for t in tiers.values()}
    for tier, fields in out:
        if fields.get("min_spend") is not None:
            spends[tier.code] = fields["min_spend"]
    ordered = [spends[t.code] for t in sorted(tiers.values(), key=lambda t: t.rank)]
    if any(a >= b for a, b in itertools.pairwise(ordered)):
        errors.add("tiers", _("Each tier needs a higher 12-month spend than the tier below it."))
    return out


# --- members -----------------------------------------------------------------------------------


def _customer_in_store(customer_id: Any, store_id: int) -> Customer:
    try:
        return Customer.objects.get(pk=int(customer_id), store_id=store_id)  # scoped: the caller's store
    except (Customer.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None


def membership_ensure(*, customer_id: int, store_id: int) -> Membership:
    """The customer's membership of the store's programme, made (with the welcome offer) on first
    use: a customer is a member from their first visit, bill or points."""
    found = Membership.objects.filter(store_id=store_id, customer_id=customer_id).first()  # scoped: the store's
    if found is not None:
        return found
    customer = _customer_in_store(customer_id, store_id)
    programme_for(store_id)
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    member = Membership.objects.create(store_id=store_id, customer=customer, referral_code=new_code(8))
                break
            except IntegrityError:
                found = Membership.objects.filter(store_id=store_id, customer_id=customer.pk).first()  # scoped: same
                if found is not None:
                    return found
        else:  # pragma: no cover - eight characters of 32 colliding five times
            raise Conflict(_("Could not make a referral code; try again."))
        welcome = CouponType.objects.filter(
            store_id=store_id, rule=CouponRule.WELCOME, is_active=True
        ).first()  # scoped
        if welcome is not None:
            _issue(welcome, customer_id=customer.pk, store_id=store_id, source_ref=f"welcome:{member.pk}", actor=None)
        emit(events.MEMBER_JOINED, store_id=store_id,
             payload=events.MemberJoined(membership_id=member.pk, customer_id=customer.pk))  # fmt: skip
    return member


@transaction.atomic
def membership_enrol(*, actor: Actor, customer_id: Any) -> tuple[Membership, bool]:
    """Enrol a customer of the actor's scope; an existing member is answered as they are."""
    require_model(actor, "add", Membership)
    customer = get_in_scope(Customer, actor, customer_id)
    store_id = actor.require_store_id()
    if customer.store_id != store_id:
        raise NotFound()
    existed = Membership.objects.filter(store_id=store_id, customer=customer).exists()  # scoped: the customer's
    member = membership_ensure(customer_id=customer.pk, store_id=store_id)
    if not existed:
        audit.record("loyalty.enrol", obj=member, actor=actor)
    return member, not existed


# --- the points ledger -------------------------------------------------------------------------


def _shift_balance(member: Membership, delta: int) -> bool:
    """Move the cached balance by ``delta`` iff it stays at or above zero: one statement (on
    PostgreSQL it takes the row lock and re-checks the condition on the committed row)."""
    condition = Q(pk=member.pk)
    if delta < 0:
        condition &= Q(points_balance__gte=-delta)
    if not Membership.objects.filter(condition).update(
        points_balance=F("points_balance") + delta, updated_at=timezone.now()
    ):  # scoped: the member in hand
        return False
    member.points_balance = Membership.objects.values_list("points_balance", flat=True).get(pk=member.pk)  # scoped
    return True


def _consume_fifo(member: Membership, points: int) -> None:
    """Take ``points`` from the member's oldest earnings first (the balance row is locked)."""
    left = points
    rows = (PointsEntry.objects.filter(membership=member, remaining__gt=0)  # scoped: the member's
            .order_by(F("expires_on").asc(nulls_last=True), "id").only("id", "remaining"))  # fmt: skip
    for row in rows.iterator(chunk_size=200):
        if left <= 0:
            break
        take = min(left, row.remaining)
        PointsEntry.objects.filter(pk=row.pk).update(remaining=F("remaining") - take)  # scoped: the member's
        left -= take


def _entry(member: Membership, points: int, source: str, *, source_ref: str = "", reason: str = "",
           idempotency_key: str = "", approver_id: int | None = None, created_by_id: int | None = None,
           expires_on: dt.date | None = None) -> PointsEntry:  # fmt: skip
    return PointsEntry.objects.create(
        store_id=member.store_id, membership=member, points=points, balance_after=member.points_balance,
        source=source, source_ref=source_ref[:60], reason=reason[:200], idempotency_key=idempotency_key[:80],
        approver_id=approver_id, created_by_id=created_by_id, remaining=max(points, 0) if expires_on or points > 0
        else 0, expires_on=expires_on)  # fmt: skip


def _replay(store_id: int, key: str, *, membership_id: int, points: int) -> PointsEntry | None:
    if not key:
        return None
    first = PointsEntry.objects.filter(store_id=store_id, idempotency_key=key).first()  # scoped: the store's
    if first is None:
        return None
    if first.membership_id != membership_id or first.points != points:
        raise _conflict("idempotency_key", _("This idempotency key was used for another movement."))
    return first


def points_credit(member: Membership, points: int, source: str, *, source_ref: str = "", reason: str = "",
                  idempotency_key: str = "", actor_user_id: int | None = None,
                  approver_id: int | None = None) -> PointsEntry:  # fmt: skip
    """Add earned points (they expire after the programme's months), in the caller's transaction."""
    replay = _replay(member.store_id, idempotency_key, membership_id=member.pk, points=points)
    if replay is not None:
        return replay
    programme = programme_for(member.store_id)
    if not _shift_balance(member, points):  # pragma: no cover - a credit never fails the condition
        raise _conflict("points", _("The points could not be added."))
    return _entry(member, points, source, source_ref=source_ref, reason=reason, idempotency_key=idempotency_key,
                  created_by_id=actor_user_id, approver_id=approver_id,
                  expires_on=add_months(today(), programme.expiry_months))  # fmt: skip


def points_debit(member: Membership, points: int, source: str, *, source_ref: str = "", reason: str = "",
                 idempotency_key: str = "", actor_user_id: int | None = None,
                 approver_id: int | None = None) -> PointsEntry:  # fmt: skip
    """Take points (oldest first); more than the balance is a 409 naming ``points``, nothing written."""
    replay = _replay(member.store_id, idempotency_key, membership_id=member.pk, points=-points)
    if replay is not None:
        return replay
    if not _shift_balance(member, -points):
        available = Membership.objects.values_list("points_balance", flat=True).get(pk=member.pk)  # scoped: same
        raise _conflict("points", _("Not enough points: %(n)s available.") % {"n": available}, available=available)
    _consume_fifo(member, points)
    return _entry(member, -points, source, source_ref=source_ref, reason=reason, idempotency_key=idempotency_key,
                  created_by_id=actor_user_id, approver_id=approver_id)  # fmt: skip


def award_points(*, customer_id: int, store_id: int, points: int, source: str, source_ref: str,
                 idempotency_key: str, actor: Actor | None = None) -> PointsEntry:  # fmt: skip
    """Give a customer points from another module (car club attendance, gifts, partner spend).
    Idempotent by ``idempotency_key`` within the store; the member is enrolled on first points."""
    if source not in PointsSource.values:
        raise ValidationError(fields={"source": [_("Choose one of the listed values.")]})
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
        raise ValidationError(fields={"points": [_("Enter a whole number between 1 and 10000000.")]})
    if not idempotency_key or len(idempotency_key) > 80:
        raise ValidationError(fields={"idempotency_key": [_("Give a key of at most 80 characters.")]})
    with transaction.atomic():
        member = membership_ensure(customer_id=customer_id, store_id=store_id)
        return points_credit(member, points, source, source_ref=source_ref, idempotency_key=idempotency_key,
                             actor_user_id=actor.user_id if actor else None)  # fmt: skip


@dataclass(frozen=True)
class PointsResult:
    entry: PointsEntry
    created: bool


@transaction.atomic
def points_post(*, actor: Actor, data: Mapping[str, Any], idempotency_key: str) -> PointsResult:
    """The API's points movement: ``partner`` points (生态积分, with the partner's reference),
    a manual ``adjustment`` (signed, with a reason; the manager making it is the approver) or a
    ``redemption`` for a gift. The same Idempotency-Key again answers the first movement."""
    errors = inputs.Errors()
    source = inputs.choice(errors, data, "source", PointsSource)
    points = inputs.integer(errors, data.get("points"), "points", -MAX_POINTS, MAX_POINTS)
    reason = inputs.text(errors, data, "reason", 200)
    ref = inputs.text(errors, data, "reference", 60)
    key = str(idempotency_key or "").strip()
    if not key or len(key) > 80 or "\x00" in key:
        errors.add("idempotency_key", _("Send an Idempotency-Key header of at most 80 characters."))
    if points is None and "points" not in errors.fields:
        errors.add("points", _("This field is required."))
    if points == 0:
        errors.add("points", _("Enter a number other than zero."))
    allowed: dict[str, str] = {PointsSource.PARTNER: "earn", PointsSource.ADJUSTMENT: "adjust",
                             PointsSource.REDEMPTION: "apply"}  # fmt: skip
    if source and source not in allowed:
        errors.add("source", _("Points from this source are given by the system, not through the API."))
    if source == PointsSource.ADJUSTMENT and not reason:
        errors.add("reason", _("Say why the points are adjusted."))
    if source == PointsSource.PARTNER and not ref:
        errors.add("reference", _("Give the partner's reference."))
    if source in (PointsSource.PARTNER, PointsSource.REDEMPTION) and points is not None and points < 0:
        errors.add("points", _("Enter a positive number."))
    require_model(actor, allowed.get(source, "adjust"), Membership)  # a role without the right: 403 before 400
    errors.raise_if_any()
    assert points is not None
    customer = get_in_scope(Customer, actor, data.get("customer"))
    store_id = actor.require_store_id()
    if customer.store_id != store_id:
        raise NotFound()
    member = membership_ensure(customer_id=customer.pk, store_id=store_id)
    existing = PointsEntry.objects.filter(store_id=store_id, idempotency_key=key).first()  # scoped: the store's
    signed = -points if source == PointsSource.REDEMPTION else points
    if existing is not None:
        return PointsResult(_replay(store_id, key, membership_id=member.pk, points=signed) or existing, False)
    common: dict[str, Any] = {
        "source_ref": ref,
        "reason": reason,
        "idempotency_key": key,
        "actor_user_id": actor.user_id,
    }
    if source == PointsSource.ADJUSTMENT:
        common["approver_id"] = actor.user_id
    if signed > 0:
        entry = points_credit(member, signed, source, **common)
    else:
        entry = points_debit(member, -signed, source, **common)
    audit.record("loyalty.points", obj=member, actor=actor,
                 extra={"points": signed, "source": source, "reason": reason})  # fmt: skip
    return PointsResult(entry, True)


# --- coupons -----------------------------------------------------------------------------------


def coupon_type_clean(errors: inputs.Errors, data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": inputs.text(errors, data, "code", 20, required=True).upper(),
        "name": inputs.text(errors, data, "name", 60, required=True),
        "kind": inputs.choice(errors, data, "kind", CouponKind),
        "service_code": inputs.text(errors, data, "service_code", 20).upper(),
        "min_spend": inputs.money(errors, data.get("min_spend"), "min_spend") or Decimal("0"),
        "valid_days": inputs.integer(errors, data.get("valid_days"), "valid_days", 1, 3660) or 90,
        "per_customer_limit": inputs.integer(errors, data.get("per_customer_limit"), "per_customer_limit", 0, 100) or 0,
        "valid_until": inputs.date(errors, data.get("valid_until"), "valid_until") if data.get("valid_until") else None,
    }
    value = inputs.money(errors, data.get("value"), "value", required=True)
    if value is not None and value <= 0:
        errors.add("value", _("Enter an amount above zero."))
    if out["kind"] == CouponKind.PERCENT and value is not None and value > 90:
        errors.add("value", _("A percentage off is at most 90."))
    if out["kind"] == CouponKind.FREE_SERVICE and not out["service_code"]:
        errors.add("service_code", _("A free service needs the service's labour code."))
    out["value"] = value
    return out


@transaction.atomic
def coupon_type_create(*, actor: Actor, data: Mapping[str, Any]) -> CouponType:
    require_model(actor, "add", CouponType)
    store_id = actor.require_store_id()
    programme_for(store_id)
    errors = inputs.Errors()
    clean = coupon_type_clean(errors, data)
    errors.raise_if_any()
    if CouponType.objects.filter(store_id=store_id, code=clean["code"]).exists():  # scoped: the store's
        raise _conflict("code", _("A coupon type with this code exists."))
    kind = CouponType.objects.create(store_id=store_id, rule=CouponRule.MANUAL, **clean)
    audit.record("loyalty.coupon_type_create", obj=kind, actor=actor)
    return kind


def _issue(kind: CouponType, *, customer_id: int, store_id: int, source_ref: str, actor: Actor | None,
           valid_days: int | None = None) -> Coupon:  # fmt: skip
    """Make one coupon (locks the member row so the per-customer limit holds under concurrency)."""
    now = timezone.now()
    if source_ref:
        found = Coupon.objects.filter(type=kind, customer_id=customer_id, source_ref=source_ref).first()  # scoped
        if found is not None:
            return found
    if kind.per_customer_limit:
        member = Membership.objects.filter(store_id=store_id, customer_id=customer_id)  # scoped: the store's
        list(member.select_for_update().values_list("id", flat=True))
        held = (
            Coupon.objects.filter(type=kind, customer_id=customer_id).exclude(status=CouponStatus.VOID).count()
        )  # scoped
        if held >= kind.per_customer_limit:
            raise _conflict("type", _("This customer already holds the most coupons of this type (%(n)s).")
                            % {"n": kind.per_customer_limit})  # fmt: skip
    until = now + dt.timedelta(days=valid_days or kind.valid_days)
    if kind.valid_until is not None:
        until = min(until, timezone.make_aware(dt.datetime.combine(kind.valid_until, dt.time.max)))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Coupon.objects.create(store_id=store_id, type=kind, customer_id=customer_id, code=new_code(),
                                             valid_from=now, valid_until=until, source_ref=source_ref[:60],
                                             issued_by_id=actor.user_id if actor else None)  # fmt: skip
        except IntegrityError:
            if source_ref:
                found = Coupon.objects.filter(
                    type=kind, customer_id=customer_id, source_ref=source_ref
                ).first()  # scoped
                if found is not None:
                    return found
    raise Conflict(_("Could not make a coupon code; try again."))  # pragma: no cover


@transaction.atomic
def coupon_issue(*, actor: Actor, data: Mapping[str, Any]) -> Coupon:
    """Issue a coupon of one of the store's types to one customer by hand."""
    require_model(actor, "add", Coupon)
    store_id = actor.require_store_id()
    customer = get_in_scope(Customer, actor, data.get("customer"))
    if customer.store_id != store_id:
        raise NotFound()
    programme_for(store_id)
    errors = inputs.Errors()
    type_code = inputs.text(errors, data, "type", 20, required=True).upper()
    errors.raise_if_any()
    kind = CouponType.objects.filter(store_id=store_id, code=type_code, is_active=True).first()  # scoped: the store's
    if kind is None:
        raise ValidationError(fields={"type": [_("No active coupon type with this code.")]})
    if kind.valid_until is not None and kind.valid_until < today():
        raise ValidationError(fields={"type": [_("This coupon type is no longer issued.")]})
    membership_ensure(customer_id=customer.pk, store_id=store_id)
    coupon = _issue(kind, customer_id=customer.pk, store_id=store_id, source_ref="", actor=actor)
    audit.record("loyalty.coupon_issue", obj=coupon, actor=actor, extra={"type": kind.code})
    return coupon


def coupon_problem(coupon: Coupon, *, store_id: int, amount: Decimal | None, job_codes: Iterable[str] = (),
                   now: dt.datetime | None = None) -> Any:  # fmt: skip
    """Why ``coupon`` cannot be used now (a translated message), or None."""
    now = now or timezone.now()
    if coupon.store_id != store_id:
        return _("This coupon is for another store.")
    if coupon.status == CouponStatus.REDEEMED:
        return _("This coupon has already been used.")
    if coupon.status == CouponStatus.VOID:
        return _("This coupon was withdrawn.")
    if coupon.valid_until < now:
        return _("This coupon has expired.")
    if coupon.valid_from > now:
        return _("This coupon is not valid yet.")
    kind = coupon.type
    if amount is not None and amount < kind.min_spend:
        return _("This coupon needs a spend of at least ¥%(n)s.") % {"n": kind.min_spend}
    codes = [c.upper() for c in job_codes]
    if kind.service_code and not any(c.startswith(kind.service_code) for c in codes):
        return _("This coupon is for another service (%(c)s).") % {"c": kind.service_code}
    return None


def coupon_value(coupon: Coupon, *, remaining: Decimal, labour: Decimal) -> Decimal:
    kind = coupon.type
    if kind.kind == CouponKind.AMOUNT:
        return min(kind.value, remaining)
    if kind.kind == CouponKind.PERCENT:
        return fen(remaining * kind.value / 100)
    return min(kind.value, labour, remaining)  # a free service: its labour, up to the coupon's worth


def _take_coupon(coupon_id: int, ref: str) -> bool:
    now = timezone.now()
    return bool(Coupon.objects.filter(pk=coupon_id, status=CouponStatus.ISSUED, valid_until__gte=now,  # scoped: in hand
                                      valid_from__lte=now).update(status=CouponStatus.REDEEMED, redeemed_at=now,
                                                                  redeemed_ref=ref[:60], updated_at=now))  # fmt: skip


@transaction.atomic
def coupon_redeem(*, actor: Actor, code: str, data: Mapping[str, Any]) -> Coupon:
    """Redeem a coupon at the till (a free car wash, a service paid apart from a bill): checks
    the conditions against ``amount`` and ``service_code`` when given; used, expired or another
    store's → 409 naming ``coupon``, nothing changed. Two tills at once: one wins."""
    require_model(actor, "redeem", Coupon)
    errors = inputs.Errors()
    amount = inputs.money(errors, data.get("amount"), "amount")
    service = inputs.text(errors, data, "service_code", 20).upper()
    ref = inputs.text(errors, data, "reference", 60)
    errors.raise_if_any()
    coupon = (Coupon.objects.for_actor(actor, "view").select_related("type")
              .filter(code=str(code or "").strip().upper()[:16]).first())  # fmt: skip
    if coupon is None:
        raise NotFound()
    require(actor, "redeem", coupon)
    problem = coupon_problem(coupon, store_id=actor.require_store_id(), amount=amount,
                             job_codes=(service,) if service else ())  # fmt: skip
    if problem is not None:
        raise _conflict("coupon", problem)
    if not _take_coupon(coupon.pk, ref or f"till:{actor.user_id}"):
        raise _conflict("coupon", _("This coupon has already been used."))
    coupon.refresh_from_db()
    audit.record("loyalty.coupon_redeem", obj=coupon, actor=actor, extra={"reference": ref})
    emit(events.COUPON_REDEEMED, store_id=coupon.store_id,
         payload=events.CouponRedeemed(coupon_id=coupon.pk, customer_id=coupon.customer_id, reference=ref))  # fmt: skip
    return coupon


# --- what a bill uses --------------------------------------------------------------------------


@transaction.atomic
def bill_loyalty_set(*, actor: Actor, data: Mapping[str, Any]) -> BillLoyalty:
    """Choose the coupon and the points a repair order's bill is to use (before it is made; the
    bill is made again when the repair order reaches 待结算). Checked now and again at payment."""
    require_model(actor, "apply", Membership)
    store_id = actor.require_store_id()
    errors = inputs.Errors()
    ro_id = inputs.integer(errors, data.get("repair_order"), "repair_order", 1, 2**31 - 1)
    points = inputs.integer(errors, data.get("points"), "points", 0, MAX_POINTS) or 0
    code = inputs.text(errors, data, "coupon", 16).upper()
    if ro_id is None and "repair_order" not in errors.fields:
        errors.add("repair_order", _("This field is required."))
    errors.raise_if_any()
    assert ro_id is not None
    customer = get_in_scope(Customer, actor, data.get("customer"))
    if customer.store_id != store_id:
        raise NotFound()
    member = membership_ensure(customer_id=customer.pk, store_id=store_id)
    coupon = None
    if code:
        coupon = (
            Coupon.objects.filter(store_id=store_id, customer=customer, code=code).select_related("type").first()
        )  # scoped
        if coupon is None:
            raise ValidationError(fields={"coupon": [_("This customer holds no coupon with this code.")]})
        problem = coupon_problem(coupon, store_id=store_id, amount=None, job_codes=())
        if problem is not None and coupon.type.service_code == "":
            raise _conflict("coupon", problem)
    if points > member.points_balance:
        raise _conflict("points", _("Not enough points: %(n)s available.") % {"n": member.points_balance},
                        available=member.points_balance)  # fmt: skip
    application = BillLoyalty.objects.filter(store_id=store_id, repair_order_id=ro_id).first()  # scoped: the store's
    if application is not None and application.status == ApplicationStatus.SETTLED:
        raise _conflict("repair_order", _("The bill is paid: void the payment first."))
    if application is not None and application.customer_id != customer.pk:
        raise _conflict("customer", _("This repair order's loyalty is another customer's."))
    if application is None:
        application = BillLoyalty(store_id=store_id, repair_order_id=ro_id, customer=customer)
    application.coupon, application.points, application.status = coupon, points, ApplicationStatus.DRAFT
    application.save()
    audit.record("loyalty.bill_choose", obj=application, actor=actor,
                 extra={"repair_order": ro_id, "coupon": code, "points": points})  # fmt: skip
    return application


def _application(ctx_store: int, ro_id: int, customer_id: int) -> BillLoyalty | None:
    found = (BillLoyalty.objects.select_related("coupon__type")  # scoped: the bill's store
             .filter(store_id=ctx_store, repair_order_id=ro_id, customer_id=customer_id).first())  # fmt: skip
    return found


def tier_discount(ctx: BillContext) -> Discount | None:
    """The member's tier discount: on the whole bill or on labour only (the programme says)."""
    member = (Membership.objects.select_related("tier")  # scoped: the bill's store
              .filter(store_id=ctx.store_id, customer_id=ctx.customer_id).first())  # fmt: skip
    if member is None or member.tier is None or not member.tier.discount_percent:
        return None
    programme = programme_for(ctx.store_id)
    base = ctx.labour_total if programme.tier_basis == TierBasis.LABOUR else ctx.labour_total + ctx.parts_total
    amount = fen(min(base, ctx.remaining) * member.tier.discount_percent / 100)
    if amount <= 0:
        return None
    off = 100 - member.tier.discount_percent
    label = gettext("%(tier)s member: %(n)s%% of the price") % {"tier": member.tier.name, "n": off}
    if programme.tier_basis == TierBasis.LABOUR:
        label = gettext("%(tier)s member: labour at %(n)s%% of the price") % {"tier": member.tier.name, "n": off}
    return Discount(code=f"tier:{member.tier.code}", label=label, amount=amount)


def coupon_discount(ctx: BillContext) -> Discount | None:
    application = _application(ctx.store_id, ctx.repair_order_id, ctx.customer_id)
    if application is None or application.coupon is None:
        return None
    coupon = application.coupon
    subtotal = ctx.labour_total + ctx.parts_total
    if coupon_problem(coupon, store_id=ctx.store_id, amount=subtotal, job_codes=ctx.job_codes) is not None:
        return None
    amount = coupon_value(coupon, remaining=ctx.remaining, labour=ctx.labour_total)
    if amount <= 0:
        return None
    return Discount(code=f"coupon:{coupon.code}", label=gettext("Coupon: %(name)s") % {"name": coupon.type.name},
                    amount=amount)  # fmt: skip


def points_discount(ctx: BillContext) -> Discount | None:
    application = _application(ctx.store_id, ctx.repair_order_id, ctx.customer_id)
    if application is None or not application.points:
        return None
    member = Membership.objects.filter(store_id=ctx.store_id, customer_id=ctx.customer_id).first()  # scoped: the bill's
    if member is None:
        return None
    programme = programme_for(ctx.store_id)
    cap = fen((ctx.labour_total + ctx.parts_total) * programme.max_points_share / 100)
    cap = min(cap, ctx.remaining)
    usable = int((cap / programme.point_value).to_integral_value(rounding=ROUND_DOWN))
    points = min(application.points, member.points_balance, usable)
    if points <= 0:
        return None
    amount = fen(points * programme.point_value)
    return Discount(code=f"points:{points}", label=gettext("%(n)s points") % {"n": points}, amount=amount)


def _earn_points(programme: Programme, labour: Decimal, parts: Decimal) -> int:
    rates = programme.earn_rates or {}
    total = labour * Decimal(str(rates.get("labour", "0"))) + parts * Decimal(str(rates.get("parts", "0")))
    return int(total.to_integral_value(rounding=ROUND_DOWN))


def bill_settled(settlement: BillSettlement) -> None:
    """In the payment's transaction: take the bill's coupon and points (a used coupon or a short
    balance refuses the payment, 409), earn points on what was paid and count it toward the tier."""
    ref = BILL_REF.format(settlement.bill_id)
    member = membership_ensure(customer_id=settlement.customer_id, store_id=settlement.store_id)
    application = BillLoyalty.objects.filter(store_id=settlement.store_id,  # scoped: the bill's store
                                             repair_order_id=settlement.repair_order_id).first()  # fmt: skip
    used = 0
    for line in settlement.discounts:
        kind, _sep, value = line.code.partition(":")
        if kind == "coupon":
            coupon = Coupon.objects.filter(store_id=settlement.store_id, code=value).first()  # scoped: the bill's
            if coupon is None or not _take_coupon(coupon.pk, ref):
                raise _conflict("coupon", _("The bill's coupon has been used or has expired: make the bill again."))
        elif kind == "points":
            used = int(value)
            points_debit(member, used, PointsSource.REDEMPTION, source_ref=ref,
                         actor_user_id=settlement.actor_user_id, reason=gettext("Paid on a bill"))  # fmt: skip
    programme = programme_for(settlement.store_id)
    subtotal = settlement.labour_total + settlement.parts_total
    paid_labour = fen(settlement.total * settlement.labour_total / subtotal) if subtotal else Decimal("0")
    paid_parts = settlement.total - paid_labour
    earned = _earn_points(programme, paid_labour, paid_parts)
    if earned > 0:
        points_credit(member, earned, PointsSource.BILL, source_ref=ref,
                      actor_user_id=settlement.actor_user_id)  # fmt: skip
    now = timezone.now()
    for category, amount in ((SpendCategory.LABOUR, paid_labour), (SpendCategory.PARTS, paid_parts)):
        if amount > 0:
            SpendEntry.objects.update_or_create(membership=member, source_ref=ref, category=category,
                                                defaults={"store_id": member.store_id, "amount": amount,
                                                          "occurred_at": now})  # fmt: skip
    if application is not None:
        application.status, application.bill_id = ApplicationStatus.SETTLED, settlement.bill_id
        application.points_used, application.points_earned = used, max(earned, 0)
        application.save(update_fields=["status", "bill_id", "points_used", "points_earned", "updated_at"])
    upgrade_now(member)


def bill_voided(settlement: BillSettlement) -> None:
    """In the void's transaction: the coupon is usable again, spent points come back, earned points
    go (as far as the balance allows: what was already spent stays spent) and the spend no longer counts."""
    ref = BILL_REF.format(settlement.bill_id)
    member = Membership.objects.filter(
        store_id=settlement.store_id, customer_id=settlement.customer_id
    ).first()  # scoped
    if member is None:
        return
    Coupon.objects.filter(
        store_id=settlement.store_id, redeemed_ref=ref, status=CouponStatus.REDEEMED
    ).update(  # scoped
        status=CouponStatus.ISSUED, redeemed_at=None, redeemed_ref="", updated_at=timezone.now()
    )
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    spent = -sum(PointsEntry.objects.filter(membership=member, source_ref=ref, source=PointsSource.REDEMPTION)  # scoped
                 .values_list("points", flat=True))  # fmt: skip
    back = sum(PointsEntry.objects.filter(membership=member, source_ref=ref, source=PointsSource.REVERSAL)  # scoped
               .values_list("points", flat=True))  # fmt: skip
    earned = sum(PointsEntry.objects.filter(membership=member, source_ref=ref, source=PointsSource.BILL)  # scoped
                 .values_list("points", flat=True))  # fmt: skip
    net = (spent - earned) - back  # what the void still owes the member (negative: takes back)
    if net > 0:
        points_credit(member, net, PointsSource.REVERSAL, source_ref=ref, idempotency_key=f"{ref}:void:{stamp}",
                      actor_user_id=settlement.actor_user_id)  # fmt: skip
    elif net < 0:
        take = min(-net, Membership.objects.values_list("points_balance", flat=True).get(pk=member.pk))  # scoped
        if take:
            points_debit(member, take, PointsSource.REVERSAL, source_ref=ref, idempotency_key=f"{ref}:void:{stamp}",
                         actor_user_id=settlement.actor_user_id)  # fmt: skip
    SpendEntry.objects.filter(membership=member, source_ref=ref).delete()  # scoped: the member's
    BillLoyalty.objects.filter(
        store_id=settlement.store_id, repair_order_id=settlement.repair_order_id
    ).update(  # scoped
        status=ApplicationStatus.DRAFT, bill_id=None, points_used=0, points_earned=0
    )
    _refresh_spend(member)


# --- tiers -------------------------------------------------------------------------------------


def _window_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=365), dt.time.min))


def _refresh_spend(member: Membership) -> Decimal:
    total = (SpendEntry.objects.filter(membership=member, occurred_at__gte=_window_start(today()))  # scoped
             .aggregate(t=Sum("amount"))["t"]) or Decimal("0")  # fmt: skip
    Membership.objects.filter(pk=member.pk).update(spend_12m=total)  # scoped: the member in hand
    member.spend_12m = total
    return total


def _target(tiers: list[Tier], spend: Decimal) -> Tier | None:
    reached = [t for t in tiers if spend >= t.min_spend]
    return reached[-1] if reached else None


def upgrade_now(member: Membership) -> None:
    """Recount the member's 12-month spend and move them up at once when it reaches a higher tier."""
    spend = _refresh_spend(member)
    tiers = tiers_of(member.store_id)
    target = _target(tiers, spend)
    current = next((t for t in tiers if t.pk == member.tier_id), None)
    if target is not None and (current is None or target.rank > current.rank):
        Membership.objects.filter(pk=member.pk).update(tier=target, downgrade_to=None, downgrade_on=None)  # scoped
        member.tier, member.tier_id = target, target.pk
        _tier_changed((member.pk,), member.store_id, upgraded=True)


def _tier_changed(ids: tuple[int, ...], store_id: int, *, upgraded: bool, downgrade_on: dt.date | None = None) -> None:
    emit(events.TIER_CHANGED, store_id=store_id,
         payload=events.TierChanged(membership_ids=ids, upgraded=upgraded, downgrade_on=downgrade_on))  # fmt: skip


@dataclass
class NightlyResult:
    members: int = 0
    upgraded: int = 0
    notified: int = 0
    downgraded: int = 0
    expired_members: int = 0
    expired_points: int = 0


def _rank_case(tiers: list[Tier], column: str) -> str:
    if not tiers:
        return "0"
    parts = " ".join(f"WHEN {column} = {int(t.pk)} THEN {int(t.rank)}" for t in tiers)
    return f"(CASE {parts} ELSE 0 END)"


def _target_case(tiers: list[Tier]) -> tuple[str, str]:
    """SQL for the tier id and rank that ``spend_12m`` reaches (highest first)."""
    ordered = sorted(tiers, key=lambda t: -t.rank)
    ids = " ".join(f"WHEN spend_12m >= {t.min_spend:f} THEN {int(t.pk)}" for t in ordered)
    ranks = " ".join(f"WHEN spend_12m >= {t.min_spend:f} THEN {int(t.rank)}" for t in ordered)
    return (f"(CASE {ids} ELSE NULL END)" if ordered else "NULL"), (f"(CASE {ranks} ELSE 0 END)" if ordered else "0")


def nightly_store(*, store_id: int, day: dt.date | None = None, chunk: int = 100_000) -> NightlyResult:
    """Re-evaluate every member's tier from their 12-month spend (up at once; down with a notice
    and the programme's grace, then down) and expire points older than the programme's age, in
    set-based statements over chunks of members (ADR 0034: 1,000,000 members in minutes)."""
    day = day or today()
    programme = programme_for(store_id)
    tiers = tiers_of(store_id)
    result = NightlyResult()
    table, entries, spend = Membership._meta.db_table, PointsEntry._meta.db_table, SpendEntry._meta.db_table
    target_id, target_rank = _target_case(tiers)
    current_rank = _rank_case(tiers, "tier_id")
    since, grace_until = _window_start(day), day + dt.timedelta(days=programme.grace_days)
    now = timezone.now()
    bounds = Membership.objects.filter(store_id=store_id).aggregate(lo=Min("id"), hi=Max("id"))  # scoped: the sweep's
    if bounds["lo"] is None:
        return result
    notices: list[tuple[tuple[int, ...], bool, dt.date | None]] = []
    for lo in range(bounds["lo"], bounds["hi"] + 1, chunk):
        hi = lo + chunk
        window = "store_id = %s AND id >= %s AND id < %s"
        args = [store_id, lo, hi]
        with transaction.atomic(), connection.cursor() as cur:
            # the rolling spend (members whose sum changed, then those with nothing left in the window)
            cur.execute(
                f"UPDATE {table} SET spend_12m = s.total FROM (SELECT membership_id AS mid, SUM(amount) AS total "
                f"FROM {spend} WHERE store_id = %s AND membership_id >= %s AND membership_id < %s AND occurred_at >= %s "
                f"GROUP BY membership_id) s WHERE {table}.id = s.mid AND {table}.spend_12m <> s.total",
                [store_id, lo, hi, since],
            )
            cur.execute(
                f"UPDATE {table} SET spend_12m = 0 WHERE {window} AND spend_12m <> 0 AND NOT EXISTS (SELECT 1 FROM "
                f"{spend} e WHERE e.membership_id = {table}.id AND e.occurred_at >= %s)",
                [*args, since],
            )
            # up at once
            cur.execute(
                f"UPDATE {table} SET tier_id = {target_id}, downgrade_to_id = NULL, downgrade_on = NULL, "
                f"evaluated_on = %s WHERE {window} AND {target_rank} > {current_rank} RETURNING id",
                [day, *args],
            )
            ups = [r[0] for r in cur.fetchall()]
            # a pending downgrade no longer due: the spend is back
            cur.execute(
                f"UPDATE {table} SET downgrade_to_id = NULL, downgrade_on = NULL WHERE {window} AND "
                f"downgrade_on IS NOT NULL AND {target_rank} >= {current_rank}",
                args,
            )
            # down after the grace
            cur.execute(
                f"UPDATE {table} SET tier_id = {target_id}, downgrade_to_id = NULL, downgrade_on = NULL, "
                f"evaluated_on = %s WHERE {window} AND downgrade_on <= %s AND {target_rank} < {current_rank} "
                f"RETURNING id",
                [day, *args, day],
            )
            downs = [r[0] for r in cur.fetchall()]
            # a notice and the grace before going down
            cur.execute(
                f"UPDATE {table} SET downgrade_to_id = {target_id}, downgrade_on = %s WHERE {window} AND "
                f"downgrade_on IS NULL AND {target_rank} < {current_rank} RETURNING id",
                [grace_until, *args],
            )
            warned = [r[0] for r in cur.fetchall()]
            # points expiry, first in first out: lock the members concerned, take what is left of
            # the expired earnings off their balance, write one expiry row each, empty those earnings
            expiring = (f"SELECT membership_id AS mid, SUM(remaining) AS total FROM {entries} WHERE store_id = %s "
                        f"AND membership_id >= %s AND membership_id < %s AND remaining > 0 AND expires_on <= %s "
                        f"GROUP BY membership_id")  # fmt: skip
            if connection.vendor == "postgresql":
                cur.execute(
                    f"SELECT id FROM {table} WHERE id IN (SELECT mid FROM ({expiring}) x) FOR UPDATE", [*args, day]
                )
            cur.execute(expiring, [*args, day])
            gone = cur.fetchall()
            if gone:
                cur.execute(
                    f"UPDATE {table} SET points_balance = points_balance - s.total FROM ({expiring}) s "
                    f"WHERE {table}.id = s.mid",
                    [*args, day],
                )
                cur.execute(
                    f"INSERT INTO {entries} (store_id, membership_id, points, balance_after, source, source_ref, reason, "
                    f"idempotency_key, remaining, created_at, updated_at) SELECT %s, s.mid, -s.total, m.points_balance, "
                    f"%s, %s, '', '', 0, %s, %s FROM ({expiring}) s JOIN {table} m ON m.id = s.mid",
                    [store_id, PointsSource.EXPIRY, f"expiry:{day.isoformat()}", now, now, *args, day],
                )
                cur.execute(
                    f"UPDATE {entries} SET remaining = 0 WHERE store_id = %s AND membership_id >= %s AND "
                    f"membership_id < %s AND remaining > 0 AND expires_on <= %s",
                    [*args, day],
                )
            result.expired_members += len(gone)
            result.expired_points += sum(int(g[1]) for g in gone)
            result.upgraded += len(ups)
            result.downgraded += len(downs)
            result.notified += len(warned)
            notices += [(tuple(ids), up, on) for ids, up, on in ((ups, True, None), (downs, False, None),
                                                                  (warned, False, grace_until)) if ids]  # fmt: skip
    result.members = Membership.objects.filter(store_id=store_id).count()  # scoped: the store being swept
    with transaction.atomic():
        for ids, up, on in notices:
            _tier_changed(ids, store_id, upgraded=up, downgrade_on=on)
    return result


def tier_notice(*, membership_id: int, upgraded: bool, downgrade_on: dt.date | None) -> None:
    """Tell the member about a new tier or a coming downgrade (the outbox; consent decides)."""
    from autocrm.messaging.services import message_queue

    member = (
        Membership.objects.select_related("tier", "downgrade_to", "customer").filter(pk=membership_id).first()
    )  # scoped
    if member is None:
        return
    tier = member.tier.name if member.tier else gettext("Member")
    if downgrade_on is not None:
        lower = member.downgrade_to.name if member.downgrade_to else gettext("Member")
        text = gettext("Your %(tier)s membership will become %(lower)s on %(day)s unless your spend reaches the tier "
                  "again.") % {"tier": tier, "lower": lower, "day": downgrade_on.isoformat()}  # fmt: skip
        key = f"loyalty-tier:{member.pk}:warn:{downgrade_on.isoformat()}"
    else:
        text = gettext("Your membership is now %(tier)s.") % {"tier": tier}
        key = f"loyalty-tier:{member.pk}:{member.tier_id}:{today().isoformat()}"
    try:
        with transaction.atomic():
            message_queue(actor=None, store=member.store_id, purpose="service", channel=None, customer=member.customer,
                          template_code="loyalty_tier", values={"tier": tier}, text=text,
                          idempotency_key=key, cause=member)  # fmt: skip
    except ValidationError:  # no channel the customer can be reached on: nothing to send
        log.info("tier notice for member %s not queued", member.pk)


# --- referrals ---------------------------------------------------------------------------------


def referral_from_lead(*, lead_id: int, store_id: int, code: str, customer_id: int | None) -> Referral | None:
    """A lead arrived carrying a member's referral code (a member of the same organization)."""
    from autocrm.tenancy.models import Store

    code = (code or "").strip().upper()[:12]
    if not code:
        return None
    referrer = Membership.objects.filter(referral_code=code).select_related("store").first()  # scoped: by the code
    store = Store.objects.filter(pk=store_id).first()  # scoped: the lead's store
    if referrer is None or store is None or referrer.store.organization_id != store.organization_id:
        return None
    if customer_id is not None and referrer.customer_id == customer_id:
        return None  # one does not refer oneself
    try:
        with transaction.atomic():
            return Referral.objects.create(store_id=store_id, referrer=referrer, code=code, lead_id=lead_id,
                                           friend_id=customer_id)  # fmt: skip
    except IntegrityError:
        return None


def referral_converted(*, store_id: int, customer_id: int, lead_id: int | None, reason: str) -> Referral | None:
    """The friend bought a car or first serviced: reward both, once (the row is locked; a
    rewarded referral is not rewarded again)."""
    with transaction.atomic():
        qs = Referral.objects.select_for_update().filter(store_id=store_id)  # scoped: the event's store
        found = qs.filter(lead_id=lead_id).first() if lead_id else None
        found = found or qs.filter(friend_id=customer_id).first()
        if found is None or found.status == ReferralStatus.REWARDED:
            return None
        found.friend_id = found.friend_id or customer_id
        found.status, found.rewarded_at, found.rewarded_for = ReferralStatus.REWARDED, timezone.now(), reason[:60]
        found.save(update_fields=["friend", "status", "rewarded_at", "rewarded_for", "updated_at"])
        referrer = found.referrer
        programme = programme_for(referrer.store_id)
        for member_store, cust in ((referrer.store_id, referrer.customer_id), (store_id, customer_id)):
            kind = CouponType.objects.filter(store_id=member_store, rule=CouponRule.REFERRAL).first()  # scoped
            membership_ensure(customer_id=cust, store_id=member_store)
            if kind is not None:
                _issue(kind, customer_id=cust, store_id=member_store, source_ref=f"referral:{found.pk}", actor=None)
        if programme.referral_spend_credit > 0:
            SpendEntry.objects.get_or_create(membership=referrer, source_ref=f"referral:{found.pk}",
                                             category=SpendCategory.REFERRAL,
                                             defaults={"store_id": referrer.store_id,
                                                       "amount": programme.referral_spend_credit,
                                                       "occurred_at": timezone.now()})  # fmt: skip
            upgrade_now(referrer)
        emit(events.REFERRAL_REWARDED, store_id=store_id,
             payload=events.ReferralRewarded(referral_id=found.pk, referrer_id=referrer.customer_id,
                                             friend_id=customer_id))  # fmt: skip
        return found


# --- gifts other modules give (core.extensions "care.gifts") -------------------------------------


def gift_coupon(customer_id: int, store_id: int, spec: str) -> str:
    """``coupon:<type code>``: one coupon of the store's type."""
    code = spec.partition(":")[2].strip().upper()
    kind = CouponType.objects.filter(store_id=store_id, code=code, is_active=True).first()  # scoped: the store's
    if kind is None:
        raise ValidationError(fields={"gift": [_("No active coupon type with this code.")]})
    membership_ensure(customer_id=customer_id, store_id=store_id)
    coupon = _issue(kind, customer_id=customer_id, store_id=store_id, source_ref="", actor=None)
    return gettext("Coupon %(name)s (%(code)s)") % {"name": kind.name, "code": coupon.code}


def gift_points(customer_id: int, store_id: int, spec: str) -> str:
    """``points:<n>`` or ``points:<n>:<idempotency key>``: ``n`` points."""
    _kind, _sep, rest = spec.partition(":")
    number, _sep, key = rest.partition(":")
    try:
        points = int(number)
    except ValueError:
        raise ValidationError(fields={"gift": [_("Enter a whole number of points.")]}) from None
    award_points(customer_id=customer_id, store_id=store_id, points=points, source=PointsSource.GIFT,
                 source_ref=spec[:60], idempotency_key=key or f"gift:{customer_id}:{new_code(12)}")  # fmt: skip
    return gettext("%(n)s points") % {"n": points}


def is_priority(customer: Any) -> bool:
    """A member of a tier with priority booking (绿色通道)."""
    pk, store_id = getattr(customer, "pk", None), getattr(customer, "store_id", None)
    if pk is None or store_id is None:
        return False
    return Membership.objects.filter(customer_id=pk, store_id=store_id, tier__priority_booking=True).exists()  # scoped


POINTS_GIFT_AMOUNTS = (50, 100, 200, 500, 1000)
MAX_GIFT_POINTS = 100_000


def gift_coupon_problem(spec: str, store_id: int) -> Any:
    """Can ``coupon:<type code>`` be set up as a gift in the store? (``care.gift_validators``)"""
    family, _sep, code = spec.partition(":")
    if family != "coupon" or not code or ":" in code:
        return _("Name the coupon type: coupon:<code>.")
    if not CouponType.objects.filter(store_id=store_id, code=code.upper(), is_active=True).exists():  # scoped
        return _("No active coupon type with this code.")
    return None


def gift_points_problem(spec: str, store_id: int) -> Any:
    """Can ``points:<n>`` be set up as a gift (a whole number from 1 to 100,000)?"""
    family, _sep, number = spec.partition(":")
    if family != "points" or not number.isdigit() or number.startswith("0"):
        return _("Enter a whole number of points.")
    if not 1 <= int(number) <= MAX_GIFT_POINTS:
        return _("Give between 1 and 100000 points.")
    return None


def gift_coupon_choices(store_id: int) -> list[tuple[str, str]]:
    """The coupons a care moment may give in a store: its active coupon types."""
    kinds = CouponType.objects.filter(store_id=store_id, is_active=True).order_by("name")  # scoped: the store's
    return [(f"coupon:{code}", gettext("Coupon: %(name)s") % {"name": name}) for code, name in kinds.values_list("code", "name")[:100]]  # fmt: skip


def gift_points_choices(store_id: int) -> list[tuple[str, str]]:
    """A few amounts of points a care moment may give."""
    return [(f"points:{n}", gettext("%(n)s points") % {"n": n}) for n in POINTS_GIFT_AMOUNTS]


# --- points toward a new car on a deal (抵扣购车款, ADR 0039; core.bill_hooks deal hooks) ---------

DEAL_REF = "sales.deal:{}"


def deal_points_cap(programme: Programme, price: Decimal) -> int:
    """The most points a car of ``price`` may take: the programme's share of the price and its
    amount, whichever is lower, in whole points."""
    cap = min(fen(price * programme.deal_points_percent / 100), programme.deal_points_max, price)
    return max(int((cap / programme.point_value).to_integral_value(rounding=ROUND_DOWN)), 0)


def deal_points_set(actor: Any, ctx: DealContext, points: int) -> DealPoints | None:
    """``sales.deal_apply`` ``points``: the consultant's choice, checked against the cap (400) and
    the balance (409), both naming ``points``; 0 takes the points off. In the caller's transaction."""
    require_model(actor, "deal", Membership)
    store_id = actor.require_store_id()
    if ctx.store_id != store_id or ctx.customer_id is None or ctx.price is None:
        raise NotFound()
    existing = DealPoints.objects.select_for_update().filter(store_id=store_id, deal_id=ctx.deal_id).first()  # scoped
    if existing is not None and existing.status != ApplicationStatus.DRAFT:
        raise _conflict("points", _("The points on this deal are already taken."))
    if not points:
        if existing is not None:
            existing.delete()
        audit.record("loyalty.deal_points", obj=None, actor=actor, extra={"deal": ctx.deal_id, "points": 0})
        return None
    member = membership_ensure(customer_id=ctx.customer_id, store_id=store_id)
    programme = programme_for(store_id)
    cap = deal_points_cap(programme, ctx.price)
    if points > cap:
        raise ValidationError(fields={"points": [_("At most %(n)s points on this car.") % {"n": cap}]})
    if points > member.points_balance:
        raise _conflict("points", _("Not enough points: %(n)s available.") % {"n": member.points_balance},
                        available=member.points_balance)  # fmt: skip
    row = existing or DealPoints(store_id=store_id, deal_id=ctx.deal_id, customer_id=ctx.customer_id)
    row.customer_id, row.points, row.amount = ctx.customer_id, points, fen(points * programme.point_value)
    row.save()
    audit.record("loyalty.deal_points", obj=row, actor=actor, extra={"deal": ctx.deal_id, "points": points})
    return row


def deal_points_line(ctx: DealContext) -> Discount | None:
    """``sales.deal_discounts``: the points on the deal as their own line under the price."""
    row = DealPoints.objects.filter(store_id=ctx.store_id, deal_id=ctx.deal_id).first()  # scoped: the deal's store
    if row is None or ctx.price is None:
        return None
    programme = programme_for(ctx.store_id)
    if row.status == ApplicationStatus.SETTLED:
        points = row.points_used
    elif row.status == ApplicationStatus.DRAFT:
        balance = Membership.objects.filter(store_id=ctx.store_id, customer_id=row.customer_id).values_list(
            "points_balance", flat=True).first() or 0  # fmt: skip  # scoped: the deal's store
        points = min(row.points, balance, deal_points_cap(programme, ctx.remaining or ctx.price))
    else:
        return None
    if points <= 0:
        return None
    return Discount(code=f"points:{points}", label=gettext("%(n)s points toward the car") % {"n": points},
                    amount=fen(points * programme.point_value))  # fmt: skip


def deal_committed(settlement: DealSettlement) -> None:
    """``sales.deal_committed``, in the transaction placing the order: take the points once (the
    row DRAFT → SETTLED by one conditional UPDATE; the balance by the conditional debit). A short
    balance refuses the order (409 naming ``points``) with nothing changed."""
    line = next((d for d in settlement.discounts if d.code.startswith("points:")), None)
    if line is None or settlement.customer_id is None:
        return
    points = int(line.code.partition(":")[2])
    qs = DealPoints.objects.filter(store_id=settlement.store_id, deal_id=settlement.deal_id)  # scoped: the deal's
    if not qs.filter(status=ApplicationStatus.DRAFT).update(
        status=ApplicationStatus.SETTLED, points_used=points, amount=line.amount, updated_at=timezone.now()
    ):
        return  # already taken (or taken off): once
    member = membership_ensure(customer_id=settlement.customer_id, store_id=settlement.store_id)
    ref = DEAL_REF.format(settlement.deal_id)
    points_debit(member, points, PointsSource.DEAL, source_ref=ref, idempotency_key=f"{ref}:points",
                 actor_user_id=settlement.actor_user_id, reason=gettext("Toward a new car"))  # fmt: skip


def deal_cancelled(settlement: DealSettlement) -> None:
    """``sales.deal_cancelled``: the points taken come back, once (SETTLED → VOIDED by one
    conditional UPDATE, then one credit with its own idempotency key)."""
    qs = DealPoints.objects.filter(store_id=settlement.store_id, deal_id=settlement.deal_id)  # scoped: the deal's
    row = qs.first()
    if row is None:
        return
    if row.status == ApplicationStatus.DRAFT:
        qs.filter(status=ApplicationStatus.DRAFT).update(status=ApplicationStatus.VOIDED, updated_at=timezone.now())
        return
    if not qs.filter(status=ApplicationStatus.SETTLED).update(
        status=ApplicationStatus.VOIDED, updated_at=timezone.now()
    ):
        return
    member = Membership.objects.filter(store_id=row.store_id, customer_id=row.customer_id).first()  # scoped
    if member is None or not row.points_used:
        return
    ref = DEAL_REF.format(settlement.deal_id)
    points_credit(member, row.points_used, PointsSource.DEAL, source_ref=ref, idempotency_key=f"{ref}:points:back",
                  actor_user_id=settlement.actor_user_id, reason=gettext("Deal cancelled"))  # fmt: skip


def deal_points_panel(actor: Any, deal: Any) -> dict[str, Any] | None:
    """The deal page's panel: the customer's balance, the programme's cap and what is applied."""
    from autocrm.core.permissions import can

    customer_id, store_id = getattr(deal, "customer_id", None), getattr(deal, "store_id", None)
    if customer_id is None or store_id is None or not can(actor, "view", Membership):
        return None
    member = Membership.objects.filter(store_id=store_id, customer_id=customer_id).first()  # scoped: the deal's store
    programme = programme_for(store_id)
    row = DealPoints.objects.filter(store_id=store_id, deal_id=deal.pk).first()  # scoped: the deal's store
    price = getattr(deal, "agreed_price", None)
    return {"balance": member.points_balance if member else 0, "programme": programme, "applied": row,
            "cap": deal_points_cap(programme, price) if price is not None else None,
            "can_apply": getattr(deal, "status", "") == "open" and (row is None or row.status == "draft")
            and can(actor, "deal", Membership)}  # fmt: skip


# --- the gift catalogue (积分兑换礼品, ADR 0039) ---------------------------------------------------


@transaction.atomic
def gift_save(*, actor: Actor, data: Mapping[str, Any], gift: Gift | None = None) -> Gift:
    """Add or change a gift of the store's catalogue (the store manager): name, points, stock, active."""
    if gift is None:
        require_model(actor, "add", Gift)
    else:
        require(actor, "change", gift)
    errors = inputs.Errors()
    name = inputs.text(errors, data, "name", 60, required=gift is None or "name" in data)
    points = (
        inputs.integer(errors, data.get("points"), "points", 1, MAX_POINTS) if "points" in data or not gift else None
    )
    stock = inputs.integer(errors, data.get("stock"), "stock", 0, 1_000_000) if "stock" in data else None
    if gift is None and points is None and "points" not in errors.fields:
        errors.add("points", _("This field is required."))
    errors.raise_if_any()
    if gift is None:
        gift = Gift(store_id=actor.require_store_id(), name=name, points=points or 1, stock=stock or 0,
                    is_active=inputs.boolean(data.get("is_active", True)))  # fmt: skip
        gift.save()
        audit.record("loyalty.gift_add", obj=gift, actor=actor)
        return gift
    if "name" in data:
        gift.name = name
    if points is not None:
        gift.points = points
    if stock is not None:
        gift.stock = stock
    if "is_active" in data:
        gift.is_active = inputs.boolean(data.get("is_active"))
    gift.save()
    audit.record("loyalty.gift_change", obj=gift, actor=actor)
    return gift


@dataclass(frozen=True)
class GiftResult:
    redemption: GiftRedemption
    created: bool


@transaction.atomic
def gift_redeem(*, actor: Actor, data: Mapping[str, Any], idempotency_key: str = "") -> GiftResult:
    """Give a member a gift for points: one of stock by a conditional ``UPDATE … WHERE stock >= 1``
    (none left → 409 naming ``gift``) and the points by the conditional debit (short → 409 naming
    ``points``), in one transaction — nothing changes when either refuses. The same key again
    answers the first redemption."""
    errors = inputs.Errors()
    gift_id = inputs.integer(errors, data.get("gift"), "gift", 1, 2**31 - 1)
    key = str(idempotency_key or "").strip()
    if len(key) > 80 or "\x00" in key:
        errors.add("idempotency_key", _("Send an Idempotency-Key header of at most 80 characters."))
    if gift_id is None and "gift" not in errors.fields:
        errors.add("gift", _("This field is required."))
    errors.raise_if_any()
    assert gift_id is not None
    store_id = actor.require_store_id()
    gift = Gift.objects.for_actor(actor, "view").filter(pk=gift_id, store_id=store_id).first()
    if gift is None:
        raise ValidationError(fields={"gift": [_("No such gift in this store.")]})
    require(actor, "redeem", gift)
    customer = get_in_scope(Customer, actor, data.get("customer"))
    if customer.store_id != store_id:
        raise NotFound()
    member = membership_ensure(customer_id=customer.pk, store_id=store_id)
    if key:
        first = GiftRedemption.objects.filter(store_id=store_id, idempotency_key=key).first()  # scoped: the store's
        if first is not None:
            if first.membership_id != member.pk or first.gift_id != gift.pk:
                raise _conflict("idempotency_key", _("This idempotency key was used for another redemption."))
            return GiftResult(first, False)
    if not gift.is_active:
        raise _conflict("gift", _("This gift is not offered any more."))
    if not Gift.objects.filter(pk=gift.pk, stock__gte=1).update(stock=F("stock") - 1, updated_at=timezone.now()):
        raise _conflict("gift", _("This gift is out of stock."))  # scoped: the gift in hand
    row = GiftRedemption.objects.create(store_id=store_id, gift=gift, membership=member, points=gift.points,
                                        idempotency_key=key, created_by_id=actor.user_id)  # fmt: skip
    points_debit(member, gift.points, PointsSource.GIFT_REDEEM, source_ref=f"loyalty.gift_redemption:{row.pk}",
                 reason=gift.name, actor_user_id=actor.user_id)  # fmt: skip
    audit.record("loyalty.gift_redeem", obj=row, actor=actor, extra={"gift": gift.pk, "points": gift.points})
    return GiftResult(row, True)


@transaction.atomic
def gift_redemption_cancel(*, actor: Actor, redemption: GiftRedemption) -> GiftRedemption:
    """Cancel a redemption once: the points and the one of stock come back (a second cancel is a 409)."""
    require(actor, "redeem", redemption.gift)  # who may redeem a gift may cancel its redemption
    now = timezone.now()
    if not GiftRedemption.objects.filter(pk=redemption.pk, status=GiftRedemptionStatus.REDEEMED).update(
        status=GiftRedemptionStatus.CANCELLED, cancelled_at=now, updated_at=now
    ):  # scoped: the row in hand
        raise _conflict("redemption", _("This redemption is already cancelled."))
    Gift.objects.filter(pk=redemption.gift_id).update(stock=F("stock") + 1, updated_at=now)  # scoped: its gift
    member = Membership.objects.get(pk=redemption.membership_id)  # scoped: its member
    ref = f"loyalty.gift_redemption:{redemption.pk}"
    points_credit(member, redemption.points, PointsSource.GIFT_REDEEM, source_ref=ref, idempotency_key=f"{ref}:back",
                  reason=gettext("Gift cancelled"), actor_user_id=actor.user_id)  # fmt: skip
    audit.record("loyalty.gift_cancel", obj=redemption, actor=actor)
    redemption.refresh_from_db()
    return redemption
