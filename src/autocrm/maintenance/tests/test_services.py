"""The maintenance services on the database: the nightly recompute, work recorded (by hand and
by the ``service.repair_order_closed`` event), recall imports matched across the organization, notices,
completion and its rate, and bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from autocrm.core import events
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.maintenance import selectors, services
from autocrm.maintenance.models import FleetRate, MaintenanceRecord, RecallCampaign, RecallVehicle, VehicleDue
from autocrm.maintenance.tests.factories import make_vehicle
from autocrm.messaging.models import Message
from autocrm.vehicles.models import Brand, Series

TODAY = timezone.localdate


def _series(name="测试车系"):
    brand, _ = Brand.objects.get_or_create(name="测试品牌")
    return Series.objects.get_or_create(brand=brand, name=name)[0]


def test_recompute_writes_one_row_per_vehicle_and_fleet_medians(world):
    store = world["a"]
    series = _series()
    today = TODAY()
    start = today - dt.timedelta(days=300)
    measured = [make_vehicle(store, series=series, delivered=start, readings=[(100, 3000 * k), (250, 7500 * k)])
                for k in (1, 2, 3)]  # fmt: skip
    bare = make_vehicle(store, series=series, delivered=start)  # no reading: the series' median (60 km/day)
    other = make_vehicle(world["b"], delivered=start, readings=[(100, 9000)])
    result = services.due_recompute(store_id=store.pk)
    assert result.vehicles == 4 and result.deferred == 1
    rows = {d.vehicle_id: d for d in VehicleDue.objects.filter(store=store)}
    assert set(rows) == {v.pk for v in [*measured, bare]}
    assert other.pk not in rows
    assert rows[measured[0].pk].rate_method == "readings"
    assert rows[measured[0].pk].rate_used == pytest.approx(30)
    assert (rows[bare.pk].rate_method, rows[bare.pk].rate_used) == ("series", pytest.approx(60))
    assert FleetRate.objects.get(store=store, series=series).km_per_day == pytest.approx(60)
    # Never serviced, delivered 300 days ago: the first service (5,000 km / 6 months) is overdue.
    assert rows[measured[0].pk].next_due_on < today
    # a list of item codes on both databases (the home panel shows their labels), not JSON text
    assert isinstance(rows[measured[0].pk].items, list) and "service" in rows[measured[0].pk].items
    again = services.due_recompute(store_id=store.pk)
    assert again.vehicles == 4
    assert VehicleDue.objects.filter(store=store).count() == 4


def test_work_recorded_moves_the_next_visit_and_is_not_doubled(world):
    store = world["a"]
    actor = actor_for("advisor_a1", "a")
    today = TODAY()
    vehicle = make_vehicle(store, delivered=today - dt.timedelta(days=200), readings=[(100, 2000), (190, 3800)])
    before = selectors.vehicle_maintenance(actor=actor, pk=vehicle.pk)
    assert before["next_due_on"] <= today
    made = services.service_recorded(actor=actor, vehicle=vehicle, done_on=today, km=4000,
                                     items=["service", "oil", "oil_filter"], reference="RO-1", source="manual")  # fmt: skip
    assert len(made) == 3
    again = services.service_recorded(actor=actor, vehicle=vehicle, done_on=today, km=4000, items=["oil"],
                                      reference="RO-1", source="manual")  # fmt: skip
    assert again == []
    after = selectors.vehicle_maintenance(actor=actor, pk=vehicle.pk)
    done = {d["item"]: d for d in after["all_items"] if d["item"] in ("service", "oil", "oil_filter")}
    assert all(d["due_on"] > today + dt.timedelta(days=150) and d["last_done_on"] == today for d in done.values())
    due = VehicleDue.objects.get(vehicle=vehicle)
    assert due.next_due_on == after["next_due_on"]


def _recall(actor, vins, code="R2026-07", title="制动软管更换", dry_run=False):
    return services.recall_import(actor=actor, vins=list(enumerate(vins, start=2)), code=code, title=title,
                                  dry_run=dry_run)  # fmt: skip


def test_a_closed_repair_order_records_items_and_completes_its_recall(world):
    from autocrm.service.events import RepairOrderClosed

    store = world["a"]
    manager = actor_for("service_manager_a", "a")
    vehicle = make_vehicle(store, readings=[(100, 3000)])
    _recall(manager, [vehicle.vin])
    with events.capture():
        events.emit("service.repair_order_closed", store_id=store.pk, payload=RepairOrderClosed(
            repair_order_id=77, vehicle_id=vehicle.pk, customer_id=vehicle.customer_id, odometer_km=3500,
            closed_at=timezone.now(), job_codes=("PM10K", "brk", "not-a-job"), recall_codes=("R2026-07",),
            is_comeback=False))  # fmt: skip
    assert set(MaintenanceRecord.objects.filter(vehicle=vehicle).values_list("item", flat=True)) == {
        "service",
        "oil",
        "oil_filter",
        "brake_pads",
    }
    rv = RecallVehicle.objects.get(vehicle=vehicle)
    assert (rv.status, rv.completed_ref) == ("completed", "RO-77")


def test_recall_vins_match_as_typed_across_the_organization(world):
    manager = actor_for("service_manager_a", "a")
    here = make_vehicle(world["a"])
    there = make_vehicle(world["b"])
    typed = [here.vin.lower(), " ".join([there.vin[:8], there.vin[8:]]), "NOTAVIN", here.vin]
    preview = _recall(manager, typed, dry_run=True)
    assert (preview.vins, preview.matched_here, preview.matched_other_stores, preview.unmatched) == (2, 1, 1, 0)
    assert preview.invalid == [(4, "NOTAVIN")] and preview.repeated == 1
    assert not RecallCampaign.objects.exists()
    preview = _recall(manager, typed)
    assert RecallCampaign.objects.filter(code="R2026-07").count() == 2  # one per store with affected cars
    assert RecallVehicle.objects.get(store=world["b"]).vehicle == there
    _recall(manager, typed)  # again: nothing doubled
    assert RecallVehicle.objects.count() == 2
    rows = selectors.recall_list(actor=manager)
    assert [(r["affected"], r["completed"], r["completion_rate"]) for r in rows] == [(1, 0, 0.0)]
    rv = RecallVehicle.objects.get(store=world["a"])
    services.recall_complete(actor=actor_for("advisor_a1", "a"), recalled=rv, reference="手工登记")
    assert selectors.recall_list(actor=manager)[0]["completion_rate"] == 1.0
    director = selectors.recall_list(actor=actor_for("director"))
    assert sorted(r["completion_rate"] for r in director) == [0.0, 1.0]


def test_recall_notices_go_through_the_outbox_once_per_vehicle(world):
    manager = actor_for("service_manager_a", "a")
    owner = make_customer(actor_for("manager_a", "a"), name="召回车主")
    vehicle = make_vehicle(world["a"], customer=owner)
    make_vehicle(world["a"])  # no owner: nobody to tell
    preview = _recall(manager, [vehicle.vin])
    assert services.recall_notify(actor=manager, campaign=preview.campaign) == 1
    assert services.recall_notify(actor=manager, campaign=preview.campaign) == 0
    message = Message.objects.get(customer=owner)
    assert message.purpose == "service" and message.idempotency_key.startswith("recall-notice:")
    with pytest.raises(PermissionDenied):
        services.recall_notify(actor=actor_for("advisor_a1", "a"), campaign=preview.campaign)


def test_recall_input_is_checked(world):
    manager = actor_for("service_manager_a", "a")
    vin = make_vehicle(world["a"]).vin
    with pytest.raises(ValidationError) as e:
        _recall(manager, ["abc", ""])
    assert "file" in e.value.fields
    with pytest.raises(ValidationError) as e:
        _recall(manager, [vin], code="")
    assert "code" in e.value.fields
    with pytest.raises(ValidationError) as e:
        _recall(manager, [vin], title="x\x00")
    assert "title" in e.value.fields
    with pytest.raises(ValidationError) as e:
        services.recall_import(actor=manager, vins=[(1, vin)], code={"a": 1}, title="t")
    assert "code" in e.value.fields
    with pytest.raises(PermissionDenied):
        _recall(actor_for("advisor_a1", "a"), [vin])
    with pytest.raises(ValidationError) as e:
        services.recall_file_read(handle=io.BytesIO(b"VIN\n"), name="list.pdf")
    assert "file" in e.value.fields
    with pytest.raises(ValidationError):
        services.recall_file_read(handle=io.BytesIO(b"x"), name="a.csv", size=services.MAX_RECALL_BYTES + 1)
    vins, code = services.recall_file_read(
        handle=io.BytesIO(f"召回编号,车架号\nR9,{vin.lower()}\nR9, {vin[:5]} {vin[5:]}\n".encode()), name="r.csv"
    )
    assert code == "R9" and [v for _n, v in vins] == [vin.lower(), f" {vin[:5]} {vin[5:]}"]


def test_work_recorded_is_checked(world):
    actor = actor_for("advisor_a1", "a")
    vehicle = make_vehicle(world["a"])
    with pytest.raises(ValidationError) as e:
        services.service_recorded(actor=actor, vehicle=vehicle, done_on=TODAY(), km=1, items=["wash"])
    assert "items" in e.value.fields
    with pytest.raises(ValidationError) as e:
        services.service_recorded(actor=actor, vehicle=vehicle, done_on=TODAY() + dt.timedelta(days=9), km=1,
                                  items=["oil"])  # fmt: skip
    assert "done_on" in e.value.fields
    with pytest.raises(ValidationError) as e:
        services.service_recorded(actor=actor, vehicle=vehicle, done_on=TODAY(), km=-5, items=["oil"])
    assert "km" in e.value.fields
    with pytest.raises(NotFound):
        services.service_recorded(actor=actor_for("advisor_b1", "b"), vehicle=vehicle, done_on=TODAY(), km=1,
                                  items=["oil"])  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.service_recorded(actor=actor_for("agent_a1", "a"), vehicle=vehicle, done_on=TODAY(), km=1,
                                  items=["oil"])  # fmt: skip


def test_insurance_renewals_list_the_next_days(world):
    today = TODAY()
    soon = make_vehicle(world["a"], insurance_expiry=today + dt.timedelta(days=10))
    make_vehicle(world["a"], insurance_expiry=today + dt.timedelta(days=100))
    make_vehicle(world["a"], insurance_expiry=today - dt.timedelta(days=1))
    make_vehicle(world["b"], insurance_expiry=today + dt.timedelta(days=5))
    page, days = selectors.insurance_renewals(actor=actor_for("finance_a1", "a"), days="30")
    assert days == 30 and [v.pk for v in page.items] == [soon.pk]
    with pytest.raises(ValidationError) as e:
        selectors.insurance_renewals(actor=actor_for("finance_a1", "a"), days="9999")
    assert "days" in e.value.fields
