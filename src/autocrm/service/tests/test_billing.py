"""Bill arithmetic, hand-checked to the fen (no database)."""

from decimal import Decimal as D

from autocrm.service.billing import COUPON, POINTS, TIER, BillContext, Discount, DiscountRule, compute, line_amount


def ctx(labour, parts, remaining):
    return BillContext(store_id=1, customer_id=1, vehicle_id=1, repair_order_id=1, labour_total=labour,
                       parts_total=parts, remaining=remaining)  # fmt: skip


def test_line_amounts_round_half_up_to_the_fen():
    assert line_amount(D("1.5"), D("180.00")) == D("270.00")
    assert line_amount(D("0.33"), D("185.00")) == D("61.05")  # 61.05 exactly
    assert line_amount(D("0.35"), D("99.99")) == D("35.00")  # 34.9965 → 35.00
    assert line_amount(D("3"), D("0.335")) == D("1.01")  # 1.005 → 1.01 (half up, not banker's)
    assert line_amount(D("2.5"), D("0.01")) == D("0.03")  # 0.025 → 0.03


def test_totals_and_vat_contained_in_the_total():
    # labour 1.5 h × 180 = 270.00, 0.3 h × 180 = 54.00; parts 58.00 + 4 × 92.00 = 426.00
    totals = compute(labour=[(D("1.5"), D("180")), (D("0.3"), D("180"))],
                     parts=[(D("1"), D("58.00")), (D("4"), D("92.00"))], tax_rate=D("0.13"), rules=[])  # fmt: skip
    assert (totals.labour_total, totals.parts_total, totals.subtotal) == (D("324.00"), D("426.00"), D("750.00"))
    assert totals.total == D("750.00")
    # 750 × 0.13 / 1.13 = 86.2831… → 86.28
    assert totals.tax == D("86.28")


def test_discounts_apply_in_order_each_on_what_is_left_and_never_below_zero():
    rules = [
        DiscountRule("tier", TIER, lambda c: Discount("tier:gold", "金卡 95 折", c.remaining * D("0.05"))),
        DiscountRule("coupon", COUPON, lambda c: Discount("coupon:X", "保养券", D("100"))),
        DiscountRule("points", POINTS, lambda c: Discount("points:99999", "积分抵扣", D("99999"))),
    ]
    totals = compute(labour=[(D("1"), D("333.33"))], parts=[], tax_rate=D("0.13"), context=ctx, rules=rules)
    # 333.33 × 5% = 16.6665 → 16.67; left 316.66; coupon 100 → 216.66; points capped at 216.66
    assert [d.amount for d in totals.discounts] == [D("16.67"), D("100.00"), D("216.66")]
    assert totals.discount_total == D("333.33") and totals.total == D("0.00") and totals.tax == D("0.00")


def test_a_failing_or_bad_rule_is_skipped_and_the_bill_stands():
    def broken(c):
        raise RuntimeError("plug-in down")

    rules = [
        DiscountRule("broken", TIER, broken),
        DiscountRule("negative", COUPON, lambda c: Discount("x", "x", D("-5"))),
        DiscountRule("nan", COUPON + 1, lambda c: Discount("y", "y", D("NaN"))),
        DiscountRule("none", POINTS, lambda c: None),
    ]
    totals = compute(labour=[(D("2"), D("100.005"))], parts=[], tax_rate=D("0.06"), context=ctx, rules=rules)
    assert totals.discounts == [] and totals.total == D("200.01")  # 200.01 exactly
    assert totals.tax == D("11.32")  # 200.01 × 0.06 / 1.06 = 11.3213… → 11.32
