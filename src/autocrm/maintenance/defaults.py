"""The shipped default service plan (通用保养计划): typical intervals of the makes sold in China.
First service (首保) at 5,000 km or 6 months, whichever first; then every 10,000 km or 12 months.
A store adds its own plan (for a series, or its default) to change it. Used by the migration that
seeds it and by the tests."""

from __future__ import annotations

from typing import Any

DEFAULT_PLAN_NAME = "通用保养计划"
ICE = "petrol,hybrid"
EV = "electric"

# (item, first_km, first_months, interval_km, interval_months, season_month, fuel_types)
DEFAULT_ITEMS: tuple[tuple[str, int | None, int | None, int | None, int | None, int | None, str], ...] = (
    ("service", 5000, 6, 10000, 12, None, ""),
    ("oil", 5000, 6, 10000, 12, None, ICE),
    ("oil_filter", 5000, 6, 10000, 12, None, ICE),
    ("air_filter", None, None, 20000, 24, None, ICE),
    ("cabin_filter", None, None, 20000, 12, None, ""),
    ("brake_fluid", None, None, 40000, 24, None, ""),
    ("coolant", None, None, None, None, 10, ""),
    ("spark_plugs", None, None, 40000, 48, None, ICE),
    ("battery", None, None, None, 36, None, ""),
    ("tyres", None, None, 50000, 60, None, ""),
    ("brake_pads", None, None, 40000, None, None, ""),
    ("ev_check", 5000, 6, 20000, 12, None, EV),
)


# What brings the owner in: the routine service (oil and filter with it; the high-voltage check of
# an EV). Every other item is done at the visit around it when due by then — filters, fluids, plugs,
# tyres, pads, the battery, coolant before winter — and never calls the owner in by itself.
LEADS_VISIT = frozenset({"service", "oil", "oil_filter", "ev_check"})


def plan_item_rows() -> list[dict[str, Any]]:
    return [
        {"item": i, "first_km": fk, "first_months": fm, "interval_km": ik, "interval_months": im,
         "season_month": sm, "fuel_types": ft, "leads_visit": i in LEADS_VISIT}
        for i, fk, fm, ik, im, sm, ft in DEFAULT_ITEMS
    ]  # fmt: skip


def seed_default_plan(plan_model: Any, item_model: Any) -> Any:
    plan, _created = plan_model.objects.get_or_create(
        store=None, series=None, defaults={"name": DEFAULT_PLAN_NAME, "note": "首保 5000 km / 6 个月"}
    )
    if not item_model.objects.filter(plan=plan).exists():
        item_model.objects.bulk_create([item_model(plan=plan, **row) for row in plan_item_rows()])
    return plan
