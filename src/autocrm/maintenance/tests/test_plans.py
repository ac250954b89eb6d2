"""The plan editor: the service manager overrides a plan for a series or the store, edits its
items (validated, audited, one transaction) and the store's due list is recomputed after."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.audit.models import AuditEvent
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.maintenance import selectors, services, tasks
from autocrm.maintenance.models import PlanItem, ServicePlan, VehicleDue
from autocrm.tenancy.models import Store
from autocrm.vehicles.models import Brand, Series

from .factories import make_vehicle

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The recompute tasks the edits queue (the queue is not immediate in tests)."""
    calls: list[int] = []
    monkeypatch.setattr(tasks, "maintenance_plan_recompute", lambda *, store_id: calls.append(store_id))
    return calls


@pytest.fixture
def han(db):
    return Series.objects.create(brand=Brand.objects.get_or_create(name="比亚迪")[0], name="汉")


def test_override_copies_the_plan_in_force_and_edits_recompute(demo, han, queued, django_capture_on_commit_callbacks):
    keeper = actor_for("service_manager_a", "a")
    store = Store.objects.get(code="a")
    with django_capture_on_commit_callbacks(execute=True):
        plan = services.plan_override(actor=keeper, series_id=str(han.pk))
    assert (plan.store_id, plan.series_id, plan.name) == (store.pk, han.pk, "比亚迪 汉")
    shipped = ServicePlan.objects.get(store__isnull=True, series__isnull=True)
    assert sorted(plan.items.values_list("item", flat=True)) == sorted(shipped.items.values_list("item", flat=True))
    assert services.plan_override(actor=keeper, series_id=han.pk) == plan  # once per store and series
    with django_capture_on_commit_callbacks(execute=True):
        services.plan_item_save(actor=keeper, plan=plan, data={"item": "service", "first_km": "3000",
                                "first_months": "3", "interval_km": "7500", "interval_months": "6", "leads_visit": "1"})  # fmt: skip
    row = PlanItem.objects.get(plan=plan, item="service")
    assert (row.first_km, row.interval_km, row.interval_months, row.leads_visit) == (3000, 7500, 6, True)
    assert queued == [store.pk, store.pk]
    event = AuditEvent.objects.filter(action="maintenance.plan_changed").latest("id")
    assert event.extra["changes"]["interval_km"] == [10000, 7500]


def test_a_shorter_cycle_brings_the_cars_of_the_series_forward(demo, han, django_capture_on_commit_callbacks):
    keeper = actor_for("service_manager_a", "a")
    store = Store.objects.get(code="a")
    today = timezone.localdate()
    car = make_vehicle(store, series=han, delivered=today - dt.timedelta(days=30), readings=[(29, 1200)])
    services.due_recompute(store_id=store.pk)
    before = VehicleDue.objects.get(vehicle=car).next_due_on  # 首保 at 5,000 km or 6 months
    with django_capture_on_commit_callbacks(execute=True):  # the queued task runs the recompute here
        plan = services.plan_override(actor=keeper, series_id=han.pk)
        services.plan_item_save(actor=keeper, plan=plan, data={"item": "service", "first_km": "2000",
                                "first_months": "2", "interval_km": "10000", "leads_visit": "on"})  # fmt: skip
    tasks.maintenance_plan_recompute.call_local(store_id=store.pk)
    after = VehicleDue.objects.get(vehicle=car).next_due_on
    assert after < before and after <= today + dt.timedelta(days=31)


def test_seasonal_item_and_removal(demo, queued, django_capture_on_commit_callbacks):
    keeper = actor_for("service_manager_a", "a")
    plan = services.plan_override(actor=keeper)
    assert plan.series_id is None and plan.store_id == keeper.store_id
    services.plan_item_save(actor=keeper, plan=plan, data={"item": "coolant", "season_month": "11"})
    assert PlanItem.objects.get(plan=plan, item="coolant").season_month == 11
    services.plan_item_delete(actor=keeper, plan=plan, item="coolant")
    assert not PlanItem.objects.filter(plan=plan, item="coolant").exists()
    with pytest.raises(NotFound):
        services.plan_item_delete(actor=keeper, plan=plan, item="coolant")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"item": "service", "interval_km": "0"}, "interval_km"),
        ({"item": "service", "interval_km": "-5000"}, "interval_km"),
        ({"item": "service", "interval_months": "121"}, "interval_months"),
        ({"item": "service", "first_months": "0"}, "first_months"),
        ({"item": "service", "interval_km": "1e9"}, "interval_km"),
        ({"item": "service", "interval_km": "99999999999999999999999"}, "interval_km"),
        ({"item": "service", "season_month": "13"}, "season_month"),
        ({"item": "service", "interval_km": "5000\x00"}, "interval_km"),
        ({"item": "service\x00", "interval_km": "5000"}, "item"),
        ({"item": "nope", "interval_km": "5000"}, "item"),
        ({"item": "service", "interval_km": "5000", "fuel_types": ["diesel"]}, "fuel_types"),
        ({"item": "service", "interval_km": True}, "interval_km"),
        ({"item": "service"}, "interval_km"),  # no cycle at all
    ],
)
def test_bad_cycles_are_400_naming_the_field(demo, queued, data, field):
    keeper = actor_for("service_manager_a", "a")
    plan = services.plan_override(actor=keeper)
    before = list(PlanItem.objects.filter(plan=plan).values_list("item", "interval_km", "interval_months"))
    with pytest.raises(ValidationError) as exc:
        services.plan_item_save(actor=keeper, plan=plan, data=data)
    assert field in exc.value.fields
    assert list(PlanItem.objects.filter(plan=plan).values_list("item", "interval_km", "interval_months")) == before


def test_who_may_edit_and_where(demo, queued):
    keeper_a, keeper_b = actor_for("service_manager_a", "a"), actor_for("service_manager_b", "b")
    plan = services.plan_override(actor=keeper_a)
    shipped = ServicePlan.objects.get(store__isnull=True, series__isnull=True)
    with pytest.raises(NotFound):  # another store's plan
        services.plan_item_save(actor=keeper_b, plan=plan, data={"item": "service", "interval_km": "5000"})
    with pytest.raises(NotFound):
        selectors.plan_get(actor=keeper_b, pk=plan.pk)
    with pytest.raises(PermissionDenied):  # the shipped plan is read-only: the store overrides it
        services.plan_item_save(actor=keeper_a, plan=shipped, data={"item": "service", "interval_km": "5000"})
    advisor = actor_for("advisor_a1", "a")
    assert selectors.plan_get(actor=advisor, pk=plan.pk) == plan  # the desk reads it
    with pytest.raises(PermissionDenied):
        services.plan_item_save(actor=advisor, plan=plan, data={"item": "service", "interval_km": "5000"})
    with pytest.raises(PermissionDenied):
        services.plan_override(actor=advisor)
    with pytest.raises(PermissionDenied):
        selectors.plan_list(actor=actor_for("sales_a1", "a"))


def test_api_and_pages(demo, han, queued):
    api = Client()
    r = api.post("/api/v1/maintenance-plans", {"series": han.pk}, content_type="application/json",
                 **bearer("service_manager_a"))  # fmt: skip
    assert r.status_code == 201 and r.json()["editable"] is True
    pid = r.json()["id"]
    r = api.put(f"/api/v1/maintenance-plans/{pid}/items/brake_fluid", {"interval_months": 24, "interval_km": 40000},
                content_type="application/json", **bearer("service_manager_a"))  # fmt: skip
    assert r.status_code == 200
    assert next(i for i in r.json()["items"] if i["item"] == "brake_fluid")["interval_months"] == 24
    r = api.put(f"/api/v1/maintenance-plans/{pid}/items/brake_fluid", {"interval_km": -1},
                content_type="application/json", **bearer("service_manager_a"))  # fmt: skip
    assert r.status_code == 400 and "interval_km" in r.json()["fields"]
    r = api.put(f"/api/v1/maintenance-plans/{pid}/items/brake_fluid", {"interval_km": 1000},
                content_type="application/json", **bearer("advisor_a1"))  # fmt: skip
    assert r.status_code == 403
    r = api.put(f"/api/v1/maintenance-plans/{pid}/items/brake_fluid", {"interval_km": 1000},
                content_type="application/json", **bearer("service_manager_b"))  # fmt: skip
    assert r.status_code == 404
    assert (
        api.delete(f"/api/v1/maintenance-plans/{pid}/items/brake_fluid", **bearer("service_manager_a")).status_code
        == 204
    )
    plans = api.get("/api/v1/maintenance-plans", **bearer("service_manager_a")).json()
    assert plans[0]["id"] == pid and any(p["store"] is None for p in plans)
    page = Client()
    from autocrm.accounts.models import User

    page.force_login(User.objects.get(username="service_manager_a"))
    assert "比亚迪 汉" in page.get("/maintenance/plans/").content.decode()
    assert page.get(f"/maintenance/plans/{pid}/").status_code == 200
    r = page.post(f"/maintenance/plans/{pid}/", {"item": "service", "interval_km": "0"})
    assert r.status_code == 302 and PlanItem.objects.get(plan_id=pid, item="service").interval_km == 10000
    page.post(f"/maintenance/plans/{pid}/", {"item": "service", "interval_km": "8000", "leads_visit": "1"})
    assert PlanItem.objects.get(plan_id=pid, item="service").interval_km == 8000
