"""Quote arithmetic, in Decimal, to the fen (分).

The monthly payment of a loan of ``P`` over ``n`` months at an annual rate of ``a`` % is the
standard annuity (等额本息): ``r = a / 1200``, ``M = P · r / (1 − (1 + r)^−n)``, and ``P / n`` at
0 %. It is computed with 40 significant digits and rounded once, to the fen, half up
(ROUND_HALF_UP, as a bank statement rounds). Total interest is ``M · n − P`` with ``M`` already
rounded, which is what the customer pays above the principal if every instalment is the quoted
one (the lender adjusts the last instalment by the rounding, at most ``n`` fen); at 0 % it is 0.

Worked example (checked independently with exact rational arithmetic in the tests):
¥200,000.00 over 36 months at 3.5 % a year → ¥5,860.42 a month (exactly 5,860.4159…), ¥10,975.12 interest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def monthly_payment(principal: Decimal, months: int, annual_rate_percent: Decimal) -> Decimal:
    """The level monthly instalment, rounded to the fen half up; 0 for nothing borrowed."""
    if principal <= 0 or months <= 0:
        return ZERO
    with localcontext() as ctx:
        ctx.prec = 40
        if annual_rate_percent == 0:
            return to_fen(principal / months)
        r = annual_rate_percent / Decimal(1200)
        payment = principal * r / (1 - (1 + r) ** -months)
        return to_fen(payment)


@dataclass(frozen=True)
class QuoteFigures:
    options_total: Decimal
    total_price: Decimal  # vehicle + options − discount + insurance
    financed_amount: Decimal  # total − trade-in − down payment, when financed
    monthly_payment: Decimal
    total_interest: Decimal


def options_total(options: Iterable[Mapping[str, Any]]) -> Decimal:
    return to_fen(sum((Decimal(str(o["price"])) for o in options), ZERO))


def quote_figures(
    *,
    vehicle_price: Decimal,
    options: Iterable[Mapping[str, Any]] = (),
    discount: Decimal = ZERO,
    trade_in_value: Decimal = ZERO,
    insurance: Decimal = ZERO,
    down_payment: Decimal = ZERO,
    term_months: int = 0,
    annual_rate: Decimal = ZERO,
) -> QuoteFigures:
    """Every derived figure of a quote. Without a term the purchase is paid in full: nothing is
    financed. The trade-in's value counts as paid before the down payment."""
    opts = options_total(options)
    total = to_fen(vehicle_price + opts - discount + insurance)
    financed = to_fen(total - trade_in_value - down_payment) if term_months > 0 else ZERO
    if financed < 0:
        financed = ZERO
    monthly = monthly_payment(financed, term_months, annual_rate)
    interest = ZERO if annual_rate == 0 or financed == 0 else to_fen(monthly * term_months - financed)
    return QuoteFigures(opts, total, financed, monthly, interest)
