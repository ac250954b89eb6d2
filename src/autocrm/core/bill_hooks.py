"""The hooks of a bill (结算单) that higher apps fill without importing after-sales (ADR 0019, 0034).

- **Discounts** (``service.bill_discounts``): ``register_discount(DiscountRule(key, order,
  compute))`` with ``compute(BillContext) -> Discount | None``; orders :data:`TIER` 10 →
  :data:`COUPON` 20 → :data:`POINTS` 30. ``service.billing`` applies them and re-exports these types.
- **Settlement** (``service.bill_settled``): ``register_settle(key, fn)`` — ``fn(BillSettlement)``
  runs inside the payment's transaction (consume a coupon, spend points); raising a
  ``DomainError`` refuses the payment with nothing changed.
- **Void** (``service.bill_voided``): ``register_void(key, fn)`` — ``fn(BillSettlement)`` runs
  inside the void's transaction and gives back what settling consumed.

The same three moments for a **new car's deal** (ADR 0039), so sales does not import loyalty:

- **Deal lines** (``sales.deal_discounts``): ``register_deal_discount(DealRule(key, order,
  compute))`` with ``compute(DealContext) -> Discount | None`` — shown as their own lines under the
  deal's price (``deal_lines``: in order, each seeing what is left; a failing rule is skipped).
- **Applying** (``sales.deal_apply``): ``register_deal_apply(key, fn)`` — ``fn(actor, DealContext,
  value)`` records what the consultant chose (e.g. key ``points``); it checks its own rights and caps.
- **Commitment** (``sales.deal_committed``): ``register_deal_commit(key, fn)`` — ``fn(DealSettlement)``
  runs inside the transaction that places the order (the deal enters the order stage); raising a
  ``DomainError`` refuses the move with nothing changed.
- **Cancellation** (``sales.deal_cancelled``): ``register_deal_cancel(key, fn)`` — runs inside the
  transaction that cancels (loses) the deal and gives back what the commitment consumed, once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .extensions import Registry, registry

log = logging.getLogger(__name__)

TIER, COUPON, POINTS = 10, 20, 30


@dataclass(frozen=True)
class BillContext:
    """What a discount rule may read: ids and amounts, no personal data. ``remaining`` is the
    amount left after the rules before this one."""

    store_id: int
    customer_id: int
    vehicle_id: int
    repair_order_id: int
    labour_total: Decimal
    parts_total: Decimal
    remaining: Decimal
    job_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discount:
    code: str  # e.g. "tier:gold", "coupon:ABC123", "points:1200"
    label: str  # shown on the bill
    amount: Decimal  # yuan, positive


@dataclass(frozen=True)
class DiscountRule:
    key: str
    order: int
    compute: Callable[[BillContext], Discount | None]


@dataclass(frozen=True)
class BillSettlement:
    """A bill being paid or voided: ids, its figures and the discount lines it was made with."""

    bill_id: int
    store_id: int
    customer_id: int
    repair_order_id: int
    labour_total: Decimal
    parts_total: Decimal
    total: Decimal
    discounts: tuple[Discount, ...]
    actor_user_id: int | None = None


DISCOUNTS: Registry[DiscountRule] = registry("service.bill_discounts")
SETTLE: Registry[Callable[[BillSettlement], None]] = registry("service.bill_settled")
VOID: Registry[Callable[[BillSettlement], None]] = registry("service.bill_voided")


def register_discount(rule: DiscountRule) -> DiscountRule:
    return DISCOUNTS.register(rule, key=rule.key, order=rule.order)


def register_settle(key: str, fn: Callable[[BillSettlement], None], order: int = 100) -> None:
    SETTLE.register(fn, key=key, order=order)


def register_void(key: str, fn: Callable[[BillSettlement], None], order: int = 100) -> None:
    VOID.register(fn, key=key, order=order)


def run_settle(settlement: BillSettlement) -> None:
    for fn in SETTLE.entries():
        fn(settlement)


def run_void(settlement: BillSettlement) -> None:
    for fn in VOID.entries():
        fn(settlement)


# --- deals (ADR 0039) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DealContext:
    """What a deal rule may read: ids and the price (the agreed price, else the latest quote's car,
    options and discount; None while unknown). ``remaining`` is what is left after earlier lines."""

    store_id: int
    deal_id: int
    customer_id: int | None
    price: Decimal | None
    remaining: Decimal | None = None


@dataclass(frozen=True)
class DealSettlement:
    """A deal being committed (its order placed) or cancelled, with the lines it carried."""

    deal_id: int
    store_id: int
    customer_id: int | None
    price: Decimal | None
    discounts: tuple[Discount, ...]
    actor_user_id: int | None = None


@dataclass(frozen=True)
class DealRule:
    key: str
    order: int
    compute: Callable[[DealContext], Discount | None]


DEAL_DISCOUNTS: Registry[DealRule] = registry("sales.deal_discounts")
DEAL_APPLY: Registry[Callable[[Any, DealContext, Any], Any]] = registry("sales.deal_apply")
DEAL_COMMIT: Registry[Callable[[DealSettlement], None]] = registry("sales.deal_committed")
DEAL_CANCEL: Registry[Callable[[DealSettlement], None]] = registry("sales.deal_cancelled")


def register_deal_discount(rule: DealRule) -> DealRule:
    return DEAL_DISCOUNTS.register(rule, key=rule.key, order=rule.order)


def register_deal_apply(key: str, fn: Callable[[Any, DealContext, Any], Any]) -> None:
    DEAL_APPLY.register(fn, key=key)


def register_deal_commit(key: str, fn: Callable[[DealSettlement], None], order: int = 100) -> None:
    DEAL_COMMIT.register(fn, key=key, order=order)


def register_deal_cancel(key: str, fn: Callable[[DealSettlement], None], order: int = 100) -> None:
    DEAL_CANCEL.register(fn, key=key, order=order)


def deal_lines(ctx: DealContext) -> tuple[Discount, ...]:
    """The deal's lines under its price, in order; each rule sees what the ones before left."""
    if ctx.price is None:
        return ()
    remaining, out = ctx.price, []
    for rule in DEAL_DISCOUNTS.entries():
        try:
            line = rule.compute(DealContext(ctx.store_id, ctx.deal_id, ctx.customer_id, ctx.price, remaining))
        except Exception:  # a failing rule is skipped (logged), never a lost deal page
            log.exception("deal rule %s failed on deal %s", rule.key, ctx.deal_id)
            continue
        if line is not None and line.amount > 0:
            line = Discount(line.code, line.label, min(line.amount, remaining).quantize(Decimal("0.01")))
            remaining -= line.amount
            out.append(line)
    return tuple(out)


def deal_apply(key: str, actor: Any, ctx: DealContext, value: Any) -> bool:
    """Hand the consultant's choice to the app registered for ``key``; False when none is."""
    fn = DEAL_APPLY.get(key)
    if fn is None:
        return False
    fn(actor, ctx, value)
    return True


def run_deal_commit(settlement: DealSettlement) -> None:
    for fn in DEAL_COMMIT.entries():
        fn(settlement)


def run_deal_cancel(settlement: DealSettlement) -> None:
    for fn in DEAL_CANCEL.entries():
        fn(settlement)
