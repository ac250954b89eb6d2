"""Bill arithmetic (结算单), exact to the fen, and the discount hook loyalty fills.

- A line's amount is quantity × unit price (labour: hours × rate), rounded half up to the fen.
- Labour and parts totals are the sums of the approved lines' amounts (no rounding of sums).
- Discounts come from the rules in the ``service.bill_discounts`` registry, in their ``order``
  (:data:`TIER` 10 → :data:`COUPON` 20 → :data:`POINTS` 30: a percentage tier discount applies
  to the full amount, a coupon to what is left, points pay last). Each rule sees what is left
  after the rules before it; its amount is rounded half up to the fen and capped at what is left,
  so the total is never negative. A rule that fails or returns a bad amount is skipped and
  logged: a bill is never lost to a discount plug-in.
- Prices include VAT (含税价, as Chinese bills show them): the VAT contained in the total is
  ``total × rate ÷ (1 + rate)``, rounded half up to the fen.

Loyalty registers, from its ``AppConfig.ready``::

    from autocrm.core.bill_hooks import TIER, DiscountRule, register_discount

    register_discount(DiscountRule("loyalty.tier", TIER, tier_discount))

where ``tier_discount(ctx: BillContext) -> Discount | None``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from autocrm.core.bill_hooks import (  # the hook types live in core so that siblings need not import service
    COUPON,
    DISCOUNTS,
    POINTS,
    TIER,
    BillContext,
    BillSettlement,
    Discount,
    DiscountRule,
    register_discount,
)

log = logging.getLogger(__name__)
__all__ = [
    "COUPON",
    "DISCOUNTS",
    "POINTS",
    "TIER",
    "BillContext",
    "BillSettlement",
    "Discount",
    "DiscountRule",
    "compute",
    "fen",
    "line_amount",
    "register_discount",
]

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return fen(Decimal(quantity) * Decimal(unit_price))


@dataclass
class Totals:
    labour_total: Decimal
    parts_total: Decimal
    subtotal: Decimal
    discounts: list[Discount] = field(default_factory=list)
    discount_total: Decimal = ZERO
    total: Decimal = ZERO
    tax_rate: Decimal = ZERO
    tax: Decimal = ZERO


def compute(
    *,
    labour: Iterable[tuple[Decimal, Decimal]],
    parts: Iterable[tuple[Decimal, Decimal]],
    tax_rate: Decimal,
    context: Callable[[Decimal, Decimal, Decimal], BillContext] | None = None,
    rules: Iterable[DiscountRule] | None = None,
) -> Totals:
    """The bill's figures from (hours, rate) and (quantity, unit price) pairs of approved lines."""
    labour_total = sum((line_amount(q, p) for q, p in labour), ZERO)
    parts_total = sum((line_amount(q, p) for q, p in parts), ZERO)
    subtotal = labour_total + parts_total
    totals = Totals(labour_total=labour_total, parts_total=parts_total, subtotal=subtotal, tax_rate=tax_rate)
    remaining = subtotal
    for rule in DISCOUNTS.entries() if rules is None else rules:
        if remaining <= 0 or context is None:
            break
        try:
            found = rule.compute(context(labour_total, parts_total, remaining))
        except Exception:  # a plug-in's failure never loses the bill
            log.exception("bill discount rule %s failed", rule.key)
            continue
        if found is None:
            continue
        try:
            amount = fen(Decimal(found.amount))
        except Exception:
            log.warning("bill discount rule %s gave a bad amount", rule.key)
            continue
        if not amount.is_finite() or amount <= 0:
            continue
        amount = min(amount, remaining)
        totals.discounts.append(Discount(code=str(found.code)[:60], label=str(found.label)[:100], amount=amount))
        remaining -= amount
    totals.discount_total = subtotal - remaining
    totals.total = remaining
    totals.tax = fen(remaining * tax_rate / (1 + tax_rate)) if tax_rate else ZERO
    return totals
