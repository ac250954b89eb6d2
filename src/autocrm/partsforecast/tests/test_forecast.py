"""The forecast on a hand-checked store (every figure below is worked out in the comments), the
mapping's validation, the order from the forecast, scope and hostile input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.test_api import bearer
from autocrm.maintenance.models import MaintenanceRecord, VehicleDue
from autocrm.maintenance.tests.factories import make_vehicle
from autocrm.parts import services as parts_services
from autocrm.parts.models import PurchaseOrder, StockMovement
from autocrm.parts.tests.factories import actor_for, make_part, make_supplier
from autocrm.partsforecast import backtest, engine, selectors, services
from autocrm.tenancy.models import Store

pytestmark = pytest.mark.django_db
D = Decimal
RO = ("service.repairorder", 7)


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _issue(keeper, part, qty, day):
    m = parts_services.stock_issue(actor=keeper, part=part, qty=qty, reference=RO)
    StockMovement.objects.filter(pk=m.pk).update(created_at=_at(day))


@pytest.fixture
def store_a(demo):
    """Store a, today T:

    * parts OIL (litres), FLT, WIP (wipers, in no plan item); mapping oil → 4.5 L OIL, oil_filter → 1 FLT;
    * four cars a year on the road, three with work in the last year: show rate 3/4 = 0.75;
    * due: two oil services at T+1 and T+2 (week 1), one at T+9 (week 2), one at T+40 (outside);
    * OIL: 10 received, 4.5 issued at T−10 for an oil change recorded that day (explained), 1 more
      issued at T−3 (other demand), 1 reserved, 2 on a sent order;
    * WIP: 14 received, 4 issued in week −12 (T−80), 10 in week −1 (T−5);
    * FLT: 2 on hand, no history."""
    keeper = actor_for("service_manager_a", "a")
    store = Store.objects.get(code="a")
    today = timezone.localdate()
    supplier = make_supplier("a", name="博世")
    oil = make_part(part_number="OIL-5W30", name="机油 5W-30", unit="litre", on_hand="10", supplier=supplier.pk)
    flt = make_part(part_number="FLT-01", name="机油滤清器", on_hand="2", supplier=supplier.pk)
    wip = make_part(part_number="WIP-01", name="雨刮片", on_hand="14")
    services.item_part_set(actor=keeper, data={"item": "oil", "part_number": "OIL-5W30", "quantity": "4.5"})
    services.item_part_set(actor=keeper, data={"item": "oil_filter", "part_number": "FLT-01", "quantity": "1"})
    cars = [make_vehicle(store, delivered=today - dt.timedelta(days=400)) for _ in range(4)]
    MaintenanceRecord.objects.create(store=store, vehicle=cars[0], item="oil", done_on=today - dt.timedelta(days=10))
    for car in cars[1:3]:
        MaintenanceRecord.objects.create(
            store=store, vehicle=car, item="service", done_on=today - dt.timedelta(days=200)
        )
    items = ["service", "oil", "oil_filter"]
    for car, days in zip(cars, (1, 2, 9, 40), strict=True):
        VehicleDue.objects.update_or_create(vehicle=car, defaults={
            "store": store, "next_due_on": today + dt.timedelta(days=days), "items": items, "rate_used": 40.0,
            "rate_method": "readings", "computed_at": timezone.now()})  # fmt: skip
    _issue(keeper, oil, "4.5", today - dt.timedelta(days=10))
    _issue(keeper, oil, "1", today - dt.timedelta(days=3))
    parts_services.stock_reserve(actor=keeper, part=oil, qty="1", reference=("service.repairorder", 8))
    order = parts_services.po_create(actor=keeper, supplier=supplier, lines=[{"part": oil.pk, "quantity": "2"}])
    parts_services.po_send(actor=keeper, order=order)
    _issue(keeper, wip, "4", today - dt.timedelta(days=80))
    _issue(keeper, wip, "10", today - dt.timedelta(days=5))
    return {"keeper": keeper, "supplier": supplier, "oil": oil, "flt": flt, "wip": wip, "store": store}


def _rows(result):
    return {r["part"].part_number: r["forecast"] for r in result.rows}


def test_forecast_hand_checked(store_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):  # a fixed number of set queries, never one per part or car
        result = selectors.store_forecast(actor=store_a["keeper"])
    assert (result.show_rate, result.show_rate_measured) == (D("0.75"), True)
    rows = _rows(result)
    oil = rows["OIL-5W30"]
    # plan: week 1 = 2 cars × 4.5 × 0.75 = 6.75; week 2 = 4.5 × 0.75 = 3.375 → 3.38
    assert oil.plan == [D("6.75"), D("3.38"), D("0.00"), D("0.00")]
    # other: weeks −12…−1 = 0 … 0 (week −2's 4.5 L is the recorded oil change) then 1 → 0.3 × 1
    assert oil.other == D("0.30")
    assert oil.weeks == [D("7.05"), D("3.68"), D("0.30"), D("0.30")] and oil.need == D("11.33")
    # 4.5 on hand + 2 on order − 1 reserved = 5.5 → ⌈11.33 − 5.5⌉ = 6
    assert (oil.on_hand, oil.on_order, oil.reserved, oil.suggested) == (D("4.50"), D("2.00"), D("1.00"), D("6"))
    flt = rows["FLT-01"]
    assert flt.weeks == [D("1.50"), D("0.75"), D("0.00"), D("0.00")] and flt.suggested == D("1")  # ⌈2.25 − 2⌉
    wip = rows["WIP-01"]
    # 4 then ten empty weeks then 10: 4 × 0.7¹⁰ = 0.113, then 0.3 × 10 + 0.7 × 0.113 = 3.079 → 3.08 a week
    assert wip.plan == [D(0)] * 4 and wip.other == D("3.08") and wip.need == D("12.32") and wip.suggested == D("13")
    assert [r["part"].part_number for r in result.rows] == ["WIP-01", "OIL-5W30", "FLT-01"]  # most to order first


def test_show_rate_defaults_with_few_cars(demo):
    rate, measured = selectors.show_rate(Store.objects.get(code="a").pk, timezone.localdate())
    assert (rate, measured) == (selectors.DEFAULT_SHOW_RATE, False)


def test_api_answers_the_same_figures(store_a, client):
    auth = bearer("service_manager_a")
    data = client.get("/api/v1/parts-forecast", **auth).json()
    assert data["show_rate"] == "0.75" and data["weeks"] == 4
    oil = next(p for p in data["parts"] if p["part_number"] == "OIL-5W30")
    assert oil["weeks"] == ["7.05", "3.68", "0.30", "0.30"] and oil["suggested"] == "6.00"
    items = client.get("/api/v1/parts-forecast/items", **auth).json()
    assert {(i["item"], i["part_number"], i["quantity"]) for i in items} == {
        ("oil", "OIL-5W30", "4.50"), ("oil_filter", "FLT-01", "1.00")}  # fmt: skip


def test_page_shows_the_suggestions_in_chinese(store_a, client):
    client.force_login(store_a["keeper"].user)
    page = client.get("/parts/forecast/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "OIL-5W30" in text and "雨刮片" in text and "75%" in text


def test_order_from_forecast_takes_the_suppliers_suggestions(store_a):
    order = services.po_from_forecast(actor=store_a["keeper"], supplier=store_a["supplier"])
    lines = {line.part.part_number: line.quantity for line in order.lines.select_related("part")}
    assert lines == {"OIL-5W30": D("6.00"), "FLT-01": D("1.00")}  # WIP has no supplier
    assert order.status == "draft"


def test_order_from_forecast_with_nothing_to_order_is_a_conflict(store_a):
    other = make_supplier("a", name="无关供应商")
    with pytest.raises(Conflict):
        services.po_from_forecast(actor=store_a["keeper"], supplier=other)


def test_mapping_edit_and_remove(store_a):
    keeper = store_a["keeper"]
    row = services.item_part_set(actor=keeper, data={"item": "oil", "part_number": "OIL-5W30", "quantity": "4"})
    assert row is not None and row.quantity == D("4.00")
    assert (
        services.item_part_set(actor=keeper, data={"item": "oil", "part_number": "OIL-5W30", "quantity": "0"}) is None
    )
    assert selectors.mapping_of(store_a["store"].pk)[0].get("oil") is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"item": "nope", "part_number": "OIL-5W30", "quantity": "1"}, "item"),
        ({"item": "oil", "part_number": "OIL\x00", "quantity": "1"}, "part_number"),
        ({"item": "oil", "part_number": "NO-SUCH", "quantity": "1"}, "part_number"),
        ({"item": "oil", "part_number": "OIL-5W30", "quantity": "1e400"}, "quantity"),
        ({"item": "oil", "part_number": "OIL-5W30", "quantity": "-1"}, "quantity"),
        ({"item": "oil", "part_number": "OIL-5W30", "quantity": "1.234"}, "quantity"),
        ({"item": ["oil"], "part_number": {"x": 1}, "quantity": True}, "quantity"),
    ],
)
def test_mapping_refuses_hostile_input(store_a, data, field):
    with pytest.raises(ValidationError) as exc:
        services.item_part_set(actor=store_a["keeper"], data=data)
    assert field in exc.value.fields


def test_api_hostile_input_is_400_naming_the_field(store_a, client):
    auth = bearer("service_manager_a")
    r = client.put("/api/v1/parts-forecast/items", {"item": "oil", "part_number": "x\x00", "quantity": 99999999999},
                   content_type="application/json", **auth)  # fmt: skip
    assert r.status_code == 400 and "part_number" in r.json()["fields"]
    r = client.put("/api/v1/parts-forecast/items", {"item": "oil", "part_number": "OIL-5W30", "quantity": 10**30},
                   content_type="application/json", **auth)  # fmt: skip
    assert r.status_code == 400 and list(r.json()["fields"]) == ["quantity"]
    assert client.get("/api/v1/parts-forecast?store=abc", **auth).status_code == 400
    assert client.get("/api/v1/parts-forecast?store=99999999999999999999999", **auth).status_code == 400
    assert client.post("/api/v1/parts-forecast/purchase-order", {"supplier": "x"},
                       content_type="application/json", **auth).status_code == 400  # fmt: skip
    r = client.post("/api/v1/parts-forecast/purchase-order", {"supplier": store_a["supplier"].pk},
                    content_type="application/json", **auth)  # fmt: skip
    assert r.status_code == 201 and r.json()["lines"] == 2


def test_scope_other_store_and_roles(store_a, client):
    b = Store.objects.get(code="b")
    keeper_b = actor_for("service_manager_b", "b")
    # store b sees none of store a's parts or mapping
    assert selectors.store_forecast(actor=keeper_b).rows == []
    with pytest.raises(NotFound):
        selectors.store_forecast(actor=store_a["keeper"], store=b.pk)
    with pytest.raises(NotFound):
        services.po_from_forecast(actor=keeper_b, supplier=store_a["supplier"])
    # a director reads either store
    director = actor_for("director", "a")
    assert {
        r["part"].part_number for r in selectors.store_forecast(actor=director, store=store_a["store"].pk).rows
    } >= {"OIL-5W30"}
    # an advisor reads but may not edit the mapping or order; a sales consultant may not read
    advisor = actor_for("advisor_a1", "a")
    assert selectors.store_forecast(actor=advisor).rows
    with pytest.raises(PermissionDenied):
        services.item_part_set(actor=advisor, data={"item": "oil", "part_number": "OIL-5W30", "quantity": "1"})
    with pytest.raises(PermissionDenied):
        services.po_from_forecast(actor=advisor, supplier=store_a["supplier"])
    with pytest.raises(PermissionDenied):
        selectors.store_forecast(actor=actor_for("sales_a1", "a"))
    r = client.get(f"/api/v1/parts-forecast?store={store_a['store'].pk}", **bearer("service_manager_b"))
    assert r.status_code == 404
    assert PurchaseOrder.objects.filter(store=b).count() == 0


def test_engine_rounds_the_suggestion_up_and_never_below_zero():
    assert engine.suggested(D("3.01"), on_hand=D("1"), on_order=D("0"), reserved=D("0")) == D("3")
    assert engine.suggested(D("3"), on_hand=D("5"), on_order=D("0"), reserved=D("0")) == D("0")
    assert engine.smoothed([]) == D("0")


def test_backtest_beats_the_average_when_a_wave_is_due():
    flat, wave = backtest.summary(range(1, 6)), backtest.summary(range(1, 6), wave=0.25)
    assert flat["wape_total"] < 0.25 and wave["wape_total"] < wave["naive_wape_total"]
