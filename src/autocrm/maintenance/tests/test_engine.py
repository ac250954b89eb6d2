"""The prediction engine on its own (no database): the mileage rate from odometer histories —
one reading, none, outliers, a corrected reading — and due dates by km, by time, by season."""

from __future__ import annotations

import datetime as dt

import pytest

from autocrm.maintenance import engine
from autocrm.maintenance.defaults import plan_item_rows
from autocrm.maintenance.engine import PlanItem, Reading, day_number, mileage_rate, predict

D0 = dt.date(2024, 1, 10)


def reading(days: int, km: int, correction: bool = False) -> Reading:
    return Reading(day_number(D0) + days, km, correction)


def steady(rate: float, days: list[int]) -> list[Reading]:
    return [reading(d, int(rate * d)) for d in days]


def test_a_steady_history_gives_its_rate():
    rate = mileage_rate(steady(40, [30, 120, 240, 400, 600]), delivered=D0)
    assert rate.method == "readings"
    assert rate.km_per_day == pytest.approx(40, abs=0.5)
    assert rate.readings == 5


def test_one_reading_counts_from_the_delivery_at_zero_km():
    rate = mileage_rate([reading(200, 10_000)], delivered=D0)
    assert rate.method == "delivery"
    assert rate.km_per_day == pytest.approx(50)
    assert rate.anchor_km == 10_000


def test_no_reading_takes_the_fleet_median_else_the_typical_mileage():
    assert mileage_rate([], delivered=D0, fallback=(33.0, "series")) == engine.Rate(33.0, "series", 0, None, 0)
    assert mileage_rate([], delivered=D0, fallback=(20.0, "store")).method == "store"
    rate = mileage_rate([], delivered=D0)
    assert (rate.method, rate.km_per_day) == ("default", engine.DEFAULT_RATE)


def test_a_typo_ten_times_too_high_does_not_move_the_rate():
    history = steady(30, [60, 180, 300, 420, 540])
    history.insert(2, reading(250, 75_000))  # 7,500 typed as 75,000
    rate = mileage_rate(history, delivered=D0)
    assert rate.method == "readings"
    assert rate.km_per_day == pytest.approx(30, abs=1)
    assert rate.readings == 5


def test_a_lower_reading_without_a_correction_is_dropped():
    history = steady(30, [60, 180, 300, 420])
    history.append(reading(450, 1_200))  # went backwards, no reason given
    rate = mileage_rate(history, delivered=D0)
    assert rate.km_per_day == pytest.approx(30, abs=0.5)
    assert rate.anchor_km == 30 * 420


def test_a_correction_supersedes_the_higher_readings_before_it():
    # The cluster was replaced: 88,000 was read off the broken one; the correction says 9,000.
    history = [reading(60, 1_800), reading(180, 88_000), reading(300, 9_000, correction=True), reading(420, 12_600)]
    rate = mileage_rate(history, delivered=D0)
    assert rate.readings == 3
    assert rate.km_per_day == pytest.approx(30, abs=0.5)


def test_readings_on_one_day_say_nothing_and_fall_back():
    history = [reading(100, 5_000), reading(100.2, 5_010)]
    rate = mileage_rate(history, delivered=D0)
    assert rate.method == "delivery"  # the last reading against the delivery, not a 50 km/day slope in hours
    assert rate.km_per_day == pytest.approx(50.1, abs=0.2)


def test_a_rate_is_kept_within_bounds():
    assert mileage_rate([reading(10, 20_000)], delivered=D0).km_per_day == engine.MAX_RATE
    assert mileage_rate([*steady(0.01, [100, 400]), reading(800, 8)], delivered=D0).km_per_day >= engine.MIN_RATE


PLAN = [PlanItem(**row) for row in plan_item_rows()]
FIRST = [PlanItem("service", first_km=5000, first_months=6, interval_km=10000, interval_months=12)]


def test_first_service_by_km_when_the_car_drives_a_lot():
    rate = mileage_rate([reading(20, 2_000)], delivered=D0)  # 100 km a day: 5,000 km on day 50
    p = predict(FIRST, rate=rate, delivered=D0, last_done={})
    assert p.next_due_on == D0 + dt.timedelta(days=50)
    assert (p.items[0].by, p.items[0].due_km) == ("km", 5000)


def test_first_service_by_time_when_the_car_drives_little():
    rate = mileage_rate([reading(60, 600)], delivered=D0)  # 10 km a day: 5,000 km after 500 days
    p = predict(FIRST, rate=rate, delivered=D0, last_done={})
    assert p.next_due_on == dt.date(2024, 7, 10)  # six months
    assert p.items[0].by == "time"


def test_after_the_first_service_the_interval_counts_from_it():
    rate = mileage_rate(steady(20, [60, 170]), delivered=D0)
    done = {"service": (D0 + dt.timedelta(days=170), 3_400)}
    p = predict(FIRST, rate=rate, delivered=D0, last_done=done)
    # 10,000 km at 20 km a day is 500 days; 12 months (366 days here) is sooner.
    assert p.next_due_on == engine.add_months(D0 + dt.timedelta(days=170), 12)
    assert p.items[0].last_done_on == D0 + dt.timedelta(days=170)


def test_items_due_within_a_month_of_the_first_share_the_visit_and_fuel_types_apply():
    rate = mileage_rate([reading(30, 1_000)], delivered=D0)
    petrol = predict(PLAN, rate=rate, delivered=D0, last_done={}, fuel_type="petrol")
    codes = {d.item for d in petrol.items}
    assert {"service", "oil", "oil_filter"} <= codes
    assert "ev_check" not in codes
    electric = predict(PLAN, rate=rate, delivered=D0, last_done={}, fuel_type="electric")
    assert "oil" not in {d.item for d in electric.all_items}
    assert "ev_check" in {d.item for d in electric.items}
    assert all(d.due_on <= electric.next_due_on + dt.timedelta(days=engine.VISIT_WINDOW_DAYS) for d in electric.items)


def test_coolant_is_due_before_winter():
    season = [PlanItem("coolant", season_month=10)]
    rate = mileage_rate([], delivered=D0)
    assert predict(season, rate=rate, delivered=D0, last_done={}).next_due_on == dt.date(2024, 10, 1)
    done = {"coolant": (dt.date(2024, 10, 12), None)}
    assert predict(season, rate=rate, delivered=D0, last_done=done).next_due_on == dt.date(2025, 10, 1)
    # Missed long ago: next year's is owed, not a check for a winter that is over.
    late = predict(season, rate=rate, delivered=D0, last_done={}, today=dt.date(2025, 3, 1))
    assert late.next_due_on == dt.date(2025, 10, 1)
    assert predict(season, rate=rate, delivered=D0, last_done={}, today=dt.date(2024, 11, 20)).next_due_on == dt.date(
        2024, 10, 1
    )


def test_a_record_without_km_counts_from_the_estimate_on_its_day():
    rate = mileage_rate(steady(50, [100, 300]), delivered=D0)
    item = [PlanItem("brake_pads", interval_km=40_000)]
    p = predict(item, rate=rate, delivered=D0, last_done={"brake_pads": (D0 + dt.timedelta(days=200), None)})
    assert p.items[0].due_km == 50 * 200 + 40_000
    assert p.next_due_on == D0 + dt.timedelta(days=1000)


def test_month_arithmetic_keeps_month_ends():
    assert engine.add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert engine.add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)


def test_the_estimated_odometer_today():
    rate = mileage_rate(steady(40, [100, 200]), delivered=D0)
    p = predict(FIRST, rate=rate, delivered=D0, last_done={}, today=D0 + dt.timedelta(days=300))
    assert p.estimated_km == 12_000
