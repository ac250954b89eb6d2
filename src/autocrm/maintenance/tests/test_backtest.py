"""The back-test: on a generated fleet whose owners come roughly when the plan says, hiding each
car's last visit and predicting it from the ones before lands close (a generous bound); and the
demo writes plans, the work done at each visit, a recall and every car's next visit."""

from __future__ import annotations

from autocrm.maintenance.backtest import backtest, error_days, plan_following_fleet
from autocrm.maintenance.defaults import plan_item_rows
from autocrm.maintenance.engine import PlanItem

PLAN = [PlanItem(**row) for row in plan_item_rows()]


def test_the_engine_predicts_plan_following_owners_within_a_month():
    fleet = plan_following_fleet(400, seed=3)
    result = backtest(fleet, PLAN)
    assert result.vehicles >= 300
    assert result.median_abs_days is not None and result.median_abs_days <= 30, result
    assert result.p90_abs_days is not None and result.p90_abs_days <= 120, result


def test_one_visit_is_not_enough_to_test():
    fleet = [h for h in plan_following_fleet(50, seed=5) if len(h.visits) == 1]
    assert all(error_days(h, PLAN) is None for h in fleet)


def test_the_demo_records_visits_a_recall_and_next_visits(db):
    from autocrm.demo.services import demo_create
    from autocrm.maintenance.models import MaintenanceRecord, RecallCampaign, RecallVehicle, ServicePlan, VehicleDue
    from autocrm.vehicles.models import Vehicle

    demo_create(customers=12, seed=5)
    assert MaintenanceRecord.objects.exists()
    assert ServicePlan.objects.filter(store__code="b").exists()
    assert VehicleDue.objects.count() == Vehicle.objects.count()
    assert RecallCampaign.objects.filter(code="R2026-017").exists() or not RecallVehicle.objects.exists()
