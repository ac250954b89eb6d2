"""The hooks of a bill (结算单) that higher apps fill without importing after-sales (ADR 0019, 0034).

- **Discounts** (``service.bill_discounts``): ``register_discount(DiscountRule(key, order,
  compute))`` with ``compute(BillContext) -> Discount | None``; orders :data:`TIER` 10 →
  :data:`COUPON` 20 → :data:`POINTS` 30. ``service.billing`` applies them and re-exports these types.
- **Settlement** (``service.bill_settled``): ``register_settle(key, fn)`` — ``fn(BillSettlement)``
  runs inside the payment's transaction (consume a coupon, spend points); raising a
  ``DomainError`` refuses the payment with nothing changed.
- **Void** (``service.bill_voided``): ``register_void(key, fn)`` — ``fn(BillSettlement)`` runs
  inside the void's transaction and gives back what settling consumed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from .extensions import Registry, registry

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
