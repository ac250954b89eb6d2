"""Quote arithmetic against exact rational arithmetic (fractions), computed independently of
sales.pricing: the annuity formula evaluated as a Fraction and rounded half up by hand."""

from decimal import Decimal
from fractions import Fraction

import pytest

from autocrm.sales.pricing import monthly_payment, quote_figures


def exact_monthly(principal: int, months: int, rate_percent: Fraction) -> Decimal:
    if rate_percent == 0:
        value = Fraction(principal) / months
    else:
        r = rate_percent / 1200
        value = Fraction(principal) * r / (1 - (1 + r) ** -months)
    cents = value * 100
    whole = cents.numerator // cents.denominator
    if cents - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(whole) / 100


def test_worked_example_200000_36_months_3_5_percent():
    # 200000 · (0.035/12) / (1 − (1 + 0.035/12)^−36) = 5860.4159… → ¥5,860.42; interest 36 · 5860.42 − 200000
    assert monthly_payment(Decimal("200000.00"), 36, Decimal("3.5")) == Decimal("5860.42")
    assert exact_monthly(200000, 36, Fraction(35, 10)) == Decimal("5860.42")
    figures = quote_figures(vehicle_price=Decimal("230000.00"), down_payment=Decimal("30000.00"), term_months=36,
                            annual_rate=Decimal("3.5"))  # fmt: skip
    assert figures.financed_amount == Decimal("200000.00")
    assert figures.monthly_payment == Decimal("5860.42")
    assert figures.total_interest == Decimal("10975.12")


@pytest.mark.parametrize(
    ("principal", "months", "rate"),
    [(100000, 12, "4.35"), (150000, 60, "5.99"), (88888, 24, "2.888"), (1, 1, "36"), (99999999, 120, "0.001"),
     (123457, 36, "3.6"), (50000, 13, "7.125")],
)  # fmt: skip
def test_matches_exact_arithmetic(principal, months, rate):
    assert monthly_payment(Decimal(principal), months, Decimal(rate)) == exact_monthly(
        principal, months, Fraction(rate)
    )


def test_zero_rate_is_principal_over_months_and_no_interest():
    assert monthly_payment(Decimal("200000"), 36, Decimal("0")) == Decimal("5555.56")
    figures = quote_figures(vehicle_price=Decimal("200000"), term_months=36, annual_rate=Decimal("0"))
    assert (figures.monthly_payment, figures.total_interest) == (Decimal("5555.56"), Decimal("0.00"))


def test_half_up_at_the_fen():
    # 100.005 / 1 → 100.01 (half up, not banker's 100.00)
    assert monthly_payment(Decimal("100.005"), 1, Decimal("0")) == Decimal("100.01")


def test_full_payment_finances_nothing():
    figures = quote_figures(
        vehicle_price=Decimal("199800.00"), options=[{"name": "座椅通风", "price": "3000.00"}],
        discount=Decimal("5000.00"), trade_in_value=Decimal("40000.00"), insurance=Decimal("6800.50"),
    )  # fmt: skip
    assert figures.total_price == Decimal("204600.50")
    assert (figures.financed_amount, figures.monthly_payment, figures.total_interest) == (0, 0, 0)
