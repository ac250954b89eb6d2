"""Prepaid plans, extended warranty, accessories and insurer direct billing (ADR 0025): the
arithmetic to the fen on hand-checked fixtures, consumption exactly once, scope, hostile input."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection
from django.utils import timezone

from autocrm.core import events
from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.customers.tests.factories import actor_for
from autocrm.service import accessories, insurance, plans, services
from autocrm.service.choices_plans import ClaimStatus, PlanKind, ShareKind, VehiclePlanStatus
from autocrm.service.insurance import split
from autocrm.service.models import Accessory, AccessorySale, InsuranceClaim, PlanUse, VehiclePlan

from .factories import make_car, make_ro


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


@pytest.fixture
def manager(demo):
    return actor_for("service_manager_a")


def make_product(manager, **data):
    data = {"code": "BY3", "name": "三次保养套餐", "kind": PlanKind.MAINTENANCE, "services": 3,
            "validity_months": 24, "price": "1200.00", "covered_codes": ["OIL"], **data}  # fmt: skip
    return plans.plan_product_create(actor=manager, data=data)


def ro_with_lines(advisor, car=None, km=10000):
    """Oil service (covered): 1.0 h × 180.00 = 180.00 + filter 58.00 + oil 368.00 (on the job);
    brake pads (not covered): 1.5 h × 180.00 = 270.00 + 1 × 420.00. Total 1,296.00."""
    ro = make_ro(advisor, km=km, **({"car": car} if car else {}))
    oil = services.job_add(actor=advisor, repair_order=ro, data={"code": "OIL", "name": "更换机油机滤", "hours": "1.0"})
    services.part_add(actor=advisor, repair_order=ro, data={"name": "机油滤清器", "quantity": "1",
                                                            "unit_price": "58.00", "job": oil.pk})  # fmt: skip
    services.part_add(actor=advisor, repair_order=ro, data={"name": "机油 4L", "quantity": "1",
                                                            "unit_price": "368.00", "job": oil.pk})  # fmt: skip
    brake = services.job_add(actor=advisor, repair_order=ro, data={"code": "BRK", "name": "更换刹车片", "hours": "1.5"})
    services.part_add(actor=advisor, repair_order=ro, data={"name": "刹车片", "quantity": "1",
                                                            "unit_price": "420.00", "job": brake.pk})  # fmt: skip
    return ro


def approve_all(advisor, ro):
    answers = {f"job:{j.pk}": "approved" for j in ro.jobs.all()}
    answers |= {f"part:{p.pk}": "approved" for p in ro.part_lines.all()}
    services.estimate_record(actor=advisor, repair_order=ro, answers=answers)


# --- plans ---------------------------------------------------------------------------------------


def test_a_plan_covers_its_jobs_and_their_parts_and_is_consumed_once_however_often_billed(advisor, manager):
    product = make_product(manager)
    customer, car = make_car(advisor)
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={})
    assert (plan.remaining, plan.price, plan.expires_on) == (3, D("1200.00"), plans.add_months(plan.starts_on, 24))
    ro = ro_with_lines(advisor, car=(customer, car))
    plans.plan_apply(actor=advisor, repair_order=ro, plan=plan)
    approve_all(advisor, ro)
    bill = services.bill_make(ro)
    # covered: 180.00 + 58.00 + 368.00 = 606.00; left: 270.00 + 420.00 = 690.00
    assert (bill.labour_total, bill.parts_total) == (D("450.00"), D("846.00"))
    assert bill.discount_total == D("606.00") and bill.total == D("690.00")
    assert bill.discounts == [{"code": f"plan:{plan.pk}", "label": "三次保养套餐", "amount": "606.00"}]
    assert bill.tax == D("79.38")  # 690 × 0.13 / 1.13 = 79.3805…
    services.bill_make(ro)
    services.bill_make(ro)
    plan.refresh_from_db()
    assert plan.remaining == 2 and PlanUse.objects.filter(vehicle_plan=plan).count() == 1
    with pytest.raises(Conflict):
        plans.plan_apply(actor=advisor, repair_order=ro, plan=plan)
    plan.refresh_from_db()
    assert plan.remaining == 2


def test_a_covered_service_alone_bills_zero(advisor, manager):
    product = make_product(manager)
    customer, car = make_car(advisor)
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={"price": "0"})
    ro = make_ro(advisor, car=(customer, car))
    services.job_add(actor=advisor, repair_order=ro, data={"code": "OIL", "name": "保养", "hours": "0.8"})
    plans.plan_apply(actor=advisor, repair_order=ro, plan=plan)
    approve_all(advisor, ro)
    bill = services.bill_make(ro)
    assert (bill.labour_total, bill.discount_total, bill.total, bill.tax) == (D("144.00"), D("144.00"), D("0.00"),
                                                                             D("0.00"))  # fmt: skip


def test_the_last_service_then_used_up_unapply_gives_it_back(advisor, manager):
    product = make_product(manager, code="BY1", services=1)
    customer, car = make_car(advisor)
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={})
    first, second = make_ro(advisor, car=(customer, car)), make_ro(advisor, car=(customer, car), km=10100)
    plans.plan_apply(actor=advisor, repair_order=first, plan=plan)
    plan.refresh_from_db()
    assert (plan.remaining, plan.status) == (0, VehiclePlanStatus.USED_UP)
    with pytest.raises(Conflict):
        plans.plan_apply(actor=advisor, repair_order=second, plan=plan)
    plans.plan_unapply(actor=advisor, repair_order=first, plan=plan)
    plan.refresh_from_db()
    assert (plan.remaining, plan.status) == (1, VehiclePlanStatus.ACTIVE)
    plans.plan_apply(actor=advisor, repair_order=second, plan=plan)
    plan.refresh_from_db()
    assert plan.remaining == 0


def test_expired_plans_and_warranty_beyond_its_distance_cannot_be_used(advisor, manager):
    customer, car = make_car(advisor)
    product = make_product(manager)
    old = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product,
                                  data={"starts_on": (timezone.localdate() - dt.timedelta(days=800)).isoformat()})  # fmt: skip
    ro = make_ro(advisor, car=(customer, car), km=12000)
    with pytest.raises(Conflict):
        plans.plan_apply(actor=advisor, repair_order=ro, plan=old)
    assert plans.plans_expire(store_id=advisor.store_id) == 1
    old.refresh_from_db()
    assert old.status == VehiclePlanStatus.EXPIRED and old.remaining == 3
    warranty = plans.plan_product_create(actor=manager, data={"code": "YB2", "name": "延保两年", "kind": "warranty",
                                                              "validity_months": 24, "warranty_km": 50000,
                                                              "price": "3680", "covered_codes": ["ENG"]})  # fmt: skip
    extended = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=warranty, data={})
    assert extended.km_limit == 12000 + 50000 and extended.remaining is None
    far = make_ro(advisor, car=(customer, car), km=62001)
    with pytest.raises(Conflict):
        plans.plan_apply(actor=advisor, repair_order=far, plan=extended)
    near = make_ro(advisor, car=(customer, car), km=62001)  # same reading again: still beyond
    with pytest.raises(Conflict):
        plans.plan_apply(actor=advisor, repair_order=near, plan=extended)


def test_a_warranty_is_not_counted_down_and_covers_its_repairs(advisor, manager):
    customer, car = make_car(advisor)
    warranty = plans.plan_product_create(actor=manager, data={"code": "YB", "name": "延保", "kind": "warranty",
                                                              "warranty_km": 100000, "covered_codes": "ENG，GBX"})  # fmt: skip
    assert warranty.covered_codes == ["ENG", "GBX"] and warranty.services is None
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=warranty, data={"price": "0"})
    for km in (20000, 30000):
        ro = make_ro(advisor, car=(customer, car), km=km)
        services.job_add(actor=advisor, repair_order=ro, data={"code": "ENG", "name": "发动机维修", "hours": "3.33",
                                                               "rate": "185"})  # fmt: skip
        plans.plan_apply(actor=advisor, repair_order=ro, plan=plan)
        approve_all(advisor, ro)
        bill = services.bill_make(ro)
        assert (bill.discount_total, bill.total) == (D("616.05"), D("0.00"))  # 3.33 × 185 = 616.05
    plan.refresh_from_db()
    assert plan.remaining is None and plan.status == VehiclePlanStatus.ACTIVE


def test_cancel_refunds_pro_rata_to_the_fen_and_is_audited(advisor, manager):
    from autocrm.audit.models import AuditEvent

    product = make_product(manager, price="1000.00")
    customer, car = make_car(advisor)
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={})
    plans.plan_apply(actor=advisor, repair_order=make_ro(advisor, car=(customer, car)), plan=plan)
    plan.refresh_from_db()
    assert plans.refund_due(plan) == D("666.67")  # 1000 × 2/3 = 666.666… → 666.67
    with pytest.raises(PermissionDenied):
        plans.vehicle_plan_cancel(actor=advisor, plan=plan, data={"reason": "车主退款"})
    with pytest.raises(ValidationError) as bad:
        plans.vehicle_plan_cancel(actor=manager, plan=plan, data={"reason": "x", "refund": "1000.01"})
    assert "refund" in bad.value.fields
    cancelled = plans.vehicle_plan_cancel(actor=manager, plan=plan, data={"reason": "车主退款"})
    assert (cancelled.status, cancelled.refund) == (VehiclePlanStatus.CANCELLED, D("666.67"))
    assert AuditEvent.objects.filter(action="vehicle_plan.cancel").exists()
    with pytest.raises(Conflict):
        plans.vehicle_plan_cancel(actor=manager, plan=plan, data={"reason": "again"})
    with pytest.raises(Conflict):
        plans.plan_apply(actor=advisor, repair_order=make_ro(advisor, car=(customer, car), km=10500), plan=plan)


def test_plans_given_with_every_delivered_car(advisor, manager):
    from autocrm.sales.events import DEAL_DELIVERED, DealDelivered

    product = make_product(manager, code="SB", name="首保赠送", services=1, price="0", give_with_delivery="on")
    customer, car = make_car(advisor)
    payload = DealDelivered(deal_id=1, lead_id=None, customer_id=customer.pk, vehicle_id=car.pk, consultant_id=None,
                            purchase_number=1)  # fmt: skip
    with events.capture():
        events.emit(DEAL_DELIVERED, store_id=car.store_id, payload=payload)
        events.emit(DEAL_DELIVERED, store_id=car.store_id, payload=payload)
    given = VehiclePlan.objects.filter(vehicle=car, product=product)
    assert given.count() == 1 and given.get().price == D("0.00") and given.get().source == "delivery"


def test_hostile_input_is_a_400_naming_the_field(advisor, manager):
    for data, field in [({"code": "A\x00", "name": "x", "services": 1}, "code"),
                        ({"code": "A", "name": "x", "services": 10**30}, "services"),
                        ({"code": "A", "name": "x", "services": 1, "price": "1e400"}, "price"),
                        ({"code": "A", "name": "x", "services": 1, "price": "-1"}, "price"),
                        ({"code": "A", "name": "x", "services": 1, "covered_codes": [{"x": 1}]}, "covered_codes"),
                        ({"code": "A", "name": "x", "kind": "forever", "services": 1}, "kind"),
                        ({"code": "A", "name": "x"}, "services")]:  # fmt: skip
        with pytest.raises(ValidationError) as bad:
            plans.plan_product_create(actor=manager, data=data)
        assert field in bad.value.fields, data
    with pytest.raises(PermissionDenied):
        make_product(advisor)
    product = make_product(manager)
    _customer, car = make_car(advisor)
    with pytest.raises(ValidationError) as bad:
        plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={"price": "12.345"})
    assert "price" in bad.value.fields


def test_another_stores_plans_are_out_of_scope(advisor, manager):
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=make_car(advisor)[1], product=make_product(manager), data={})
    other = actor_for("advisor_b1")
    with pytest.raises(NotFound):
        plans.vehicle_plan_get(actor=other, pk=plan.pk)
    assert not plans.vehicle_plan_list(actor=other).filter(pk=plan.pk).exists()
    ro_b = make_ro(other)
    with pytest.raises(ValidationError):
        plans.plan_apply(actor=other, repair_order=ro_b, plan=plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once: PostgreSQL")
def test_two_repair_orders_take_the_last_service_one_wins(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    advisor = actor_for("advisor_a1", "a")
    product = make_product(actor_for("service_manager_a", "a"), code="RACE", services=1)
    customer, car = make_car(advisor)
    plan = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=product, data={})
    orders = [make_ro(advisor, car=(customer, car), km=10000 + i) for i in range(2)]
    barrier, results = threading.Barrier(2), []

    def run(ro, username):
        from django.db import connections

        try:
            actor = actor_for(username, "a")
            barrier.wait()
            plans.plan_apply(actor=actor, repair_order=ro, plan=plan)
            results.append(201)
        except Conflict:
            results.append(409)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(ro, u)) for ro, u in zip(orders, ("advisor_a1", "service_manager_a"),
                                                                             strict=True)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    plan.refresh_from_db()
    assert plan.remaining == 0 and PlanUse.objects.filter(vehicle_plan=plan).count() == 1


# --- insurer direct billing ---------------------------------------------------------------------


@pytest.mark.parametrize(("total", "kind", "value", "insurer", "owner"), [
    ("1296.00", "percent", "80", "1036.80", "259.20"),
    ("333.33", "percent", "33.33", "111.10", "222.23"),  # 111.098889 → 111.10
    ("0.05", "percent", "50", "0.03", "0.02"),  # 0.025 → 0.03 (half up), the owner 0.02
    ("1000.00", "amount", "800", "800.00", "200.00"),  # a deductible of 200
    ("500.00", "amount", "800", "500.00", "0.00"),  # capped at the total
    ("999.99", "percent", "100", "999.99", "0.00"),
    ("999.99", "percent", "0", "0.00", "999.99"),
])  # fmt: skip
def test_the_two_shares_are_exact_to_the_fen_and_sum_to_the_total(total, kind, value, insurer, owner):
    assert split(D(total), kind, D(value)) == (D(insurer), D(owner))
    assert sum(split(D(total), kind, D(value))) == D(total)


def test_an_accident_repair_bills_the_insurer_and_the_owner(advisor, manager):
    ro = ro_with_lines(advisor)
    claim = insurance.claim_set(actor=advisor, repair_order=ro, data={"insurer": "中国人保", "claim_number": "PICC-2026-001",
                                                                      "share_kind": "percent", "share_value": "85"})  # fmt: skip
    assert claim.insurer_amount is None
    approve_all(advisor, ro)
    services.bill_make(ro)
    claim.refresh_from_db()
    # 1296.00 × 85% = 1101.60; the owner 194.40
    assert (claim.insurer_amount, claim.owner_amount, claim.status) == (D("1101.60"), D("194.40"), ClaimStatus.PENDING)
    claim = insurance.claim_set(actor=advisor, repair_order=ro, data={"insurer": "中国人保", "claim_number": "PICC-2026-001",
                                                                      "share_kind": ShareKind.AMOUNT,
                                                                      "share_value": "1000"})  # fmt: skip
    assert (claim.insurer_amount, claim.owner_amount) == (D("1000.00"), D("296.00"))
    listed, total = insurance.open_claims(actor=manager)
    assert claim in listed and total >= D("1000.00")
    with pytest.raises(PermissionDenied):
        insurance.claim_mark_paid(actor=advisor, claim=claim)
    insurance.claim_mark_paid(actor=actor_for("finance_a1"), claim=claim)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID and claim not in insurance.open_claims(actor=manager)[0]
    with pytest.raises(Conflict):
        insurance.claim_mark_paid(actor=manager, claim=claim)
    with pytest.raises(NotFound):
        insurance.claim_get(actor=actor_for("advisor_b1"), pk=claim.pk)


def test_claim_input_is_checked(advisor):
    ro = make_ro(advisor)
    for data, field in [({"insurer": "", "claim_number": "1", "share_kind": "percent", "share_value": "50"}, "insurer"),
                        ({"insurer": "平安", "claim_number": "1", "share_kind": "percent", "share_value": "100.01"},
                         "share_value"),
                        ({"insurer": "平安", "claim_number": "1\x00", "share_kind": "amount", "share_value": "5"},
                         "claim_number"),
                        ({"insurer": "平安", "claim_number": "1", "share_kind": "all", "share_value": "5"}, "share_kind"),
                        ({"insurer": "平安", "claim_number": "1", "share_kind": "amount", "share_value": "NaN"},
                         "share_value")]:  # fmt: skip
        with pytest.raises(ValidationError) as bad:
            insurance.claim_set(actor=advisor, repair_order=ro, data=data)
        assert field in bad.value.fields
    assert not InsuranceClaim.objects.filter(repair_order=ro).exists()


# --- accessories ---------------------------------------------------------------------------------


def test_accessories_sold_on_the_repair_order_and_the_offer_list(advisor, manager):
    item = accessories.accessory_create(actor=manager, data={"code": "MAT", "name": "全包围脚垫", "price": "680.00",
                                                             "cost": "310.00"})  # fmt: skip
    with pytest.raises(PermissionDenied):
        accessories.accessory_create(actor=advisor, data={"code": "X", "name": "x", "price": "1"})
    assert accessories.shows_margin(manager) and not accessories.shows_margin(advisor)
    today = timezone.localdate()
    _due, due_car = make_car(advisor, delivery_date=(today - dt.timedelta(days=182)).isoformat())
    bought_customer, bought = make_car(advisor, delivery_date=(today - dt.timedelta(days=180)).isoformat())
    _c, recent = make_car(advisor, delivery_date=(today - dt.timedelta(days=30)).isoformat())
    ro = make_ro(advisor, car=(bought_customer, bought))
    sale = accessories.accessory_sell(actor=advisor, repair_order=ro, accessory=item, data={"quantity": "2"})
    assert sale.part_line.amount == D("1360.00") and sale.cost == D("310.00")
    ids = [row["vehicle"].pk for row in accessories.offer_list(actor=advisor)]
    assert due_car.pk in ids and bought.pk not in ids and recent.pk not in ids
    assert recent.pk in [row["vehicle"].pk for row in accessories.offer_list(actor=advisor, months_from=0, months_to=2)]
    assert not accessories.offer_list(actor=actor_for("advisor_b1")) or due_car.pk not in [
        row["vehicle"].pk for row in accessories.offer_list(actor=actor_for("advisor_b1"))
    ]
    with pytest.raises(ValidationError):
        accessories.offer_window("7", "5")
    with pytest.raises(ValidationError):
        accessories.offer_window("x", None)
    assert AccessorySale.objects.filter(vehicle=bought).count() == 1 and Accessory.objects.count() >= 1


def test_the_demo_shows_plans_accessories_and_claims(advisor):
    from autocrm.demo.plans import demo_plans_store
    from autocrm.tenancy.models import Store

    ros = [make_ro(advisor) for _ in range(2)]
    store = Store.objects.get(pk=advisor.store_id)
    assert demo_plans_store(store) >= 2
    assert PlanUse.objects.filter(repair_order=ros[0]).count() == 1
    assert AccessorySale.objects.filter(repair_order=ros[1]).count() == 1
    assert demo_plans_store(store) == 0  # once per store


def test_the_nightly_sweep_expires_plans_in_every_store_with_after_sales(advisor, manager):
    """plans_expire runs on the periodic schedule (just after midnight in Shanghai), per store."""
    from huey.contrib.djhuey import HUEY

    from autocrm.service import tasks

    _customer, car = make_car(advisor)
    old = plans.vehicle_plan_sell(actor=advisor, vehicle=car, product=make_product(manager),
                                  data={"starts_on": (timezone.localdate() - dt.timedelta(days=800)).isoformat()})  # fmt: skip
    assert tasks.plans_expire_nightly.task_class in HUEY._registry._periodic_tasks
    assert tasks.plans_expire_nightly.module == "aftersales"
    # Huey's clock is UTC: 00:05 in Shanghai, once a day.
    assert HUEY.utc and tasks.plans_expire_nightly.task_class().validate_datetime(dt.datetime(2026, 12, 1, 16, 5))
    assert not tasks.plans_expire_nightly.task_class().validate_datetime(dt.datetime(2026, 12, 1, 0, 5))
    assert advisor.store_id in tasks.plans_expire_nightly.call_local()
    old.refresh_from_db()
    assert old.status == VehiclePlanStatus.EXPIRED
