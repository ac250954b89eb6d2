import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from autocrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from autocrm.core.events import capture
from autocrm.messaging.models import StaffNotification
from autocrm.parts import services
from autocrm.parts.models import Part, PurchaseOrder, Reservation, StockMovement
from autocrm.tenancy.models import Store

from .factories import actor_for, make_part, make_supplier

pytestmark = pytest.mark.django_db

RO = ("service.repairorder", 42)
RO2 = ("service.repairorder", 43)


def balance(part):
    part.refresh_from_db()
    return part.on_hand, part.reserved


def ledger_sum(part):
    return sum((m.quantity for m in StockMovement.objects.filter(part=part)), Decimal(0))


def test_ledger_arithmetic_receive_issue_return_adjust(demo):
    keeper, advisor = actor_for("service_manager_a", "a"), actor_for("advisor_a1", "a")
    part = make_part(on_hand="10", unit="litre")
    services.stock_issue(actor=advisor, part=part, qty="4.5", reference=RO)
    services.stock_return(actor=advisor, part=part, qty="0.5", reference=RO)
    services.stock_adjust(actor=keeper, part=part, qty="-1", reason="盘点少一桶")
    assert balance(part) == (Decimal("5.00"), Decimal("0"))
    assert ledger_sum(part) == part.on_hand
    rows = list(StockMovement.objects.filter(part=part).order_by("id").values_list("kind", "quantity", "on_hand_after"))
    assert rows == [
        ("receipt", Decimal("10.00"), Decimal("10.00")),
        ("issue", Decimal("-4.50"), Decimal("5.50")),
        ("return", Decimal("0.50"), Decimal("6.00")),
        ("adjustment", Decimal("-1.00"), Decimal("5.00")),
    ]


def test_issue_more_than_on_hand_is_409_and_writes_nothing(demo):
    part = make_part(on_hand="2")
    with pytest.raises(Conflict) as exc:
        services.stock_issue(actor=actor_for("advisor_a1", "a"), part=part, qty=3, reference=RO)
    assert "quantity" in exc.value.fields and exc.value.extra["available"] == "2.00"
    assert balance(part) == (Decimal("2.00"), Decimal("0"))
    assert StockMovement.objects.filter(part=part).count() == 1
    assert services.stock_issue(actor=actor_for("advisor_a1", "a"), part=part, qty=3, reference=RO,
                                backorder=True) is None  # fmt: skip


def test_reservations_count_against_available(demo):
    advisor = actor_for("advisor_a1", "a")
    part = make_part(on_hand="5")
    services.stock_reserve(actor=advisor, part=part, qty=3, reference=RO)
    services.stock_reserve(actor=advisor, part=part, qty=1, reference=RO)  # adds to the open one
    assert Reservation.objects.get(part=part, status="open").quantity == Decimal("4.00")
    assert balance(part) == (Decimal("5.00"), Decimal("4.00"))
    with pytest.raises(Conflict):  # another repair order wants 2, only 1 is free
        services.stock_reserve(actor=advisor, part=part, qty=2, reference=RO2)
    with pytest.raises(Conflict):  # nor may it take the held stock by issuing
        services.stock_issue(actor=advisor, part=part, qty=2, reference=RO2)
    services.stock_issue(actor=advisor, part=part, qty=1, reference=RO2)
    # RO issues its held 4: the reservation is used and closed
    services.stock_issue(actor=advisor, part=part, qty=4, reference=RO)
    assert balance(part) == (Decimal("0.00"), Decimal("0.00"))
    assert Reservation.objects.get(part=part).status == "issued"


def test_release_gives_back_and_adjust_cannot_take_reserved(demo):
    advisor, keeper = actor_for("advisor_a1", "a"), actor_for("service_manager_a", "a")
    part = make_part(on_hand="3")
    services.stock_reserve(actor=advisor, part=part, qty=2, reference=RO)
    with pytest.raises(Conflict):
        services.stock_adjust(actor=keeper, part=part, qty=-2, reason="破损")
    with pytest.raises(Conflict):
        services.stock_release(actor=advisor, part=part, reference=RO, qty=3)
    assert services.stock_release(actor=advisor, part=part, reference=RO, qty=1) == Decimal("1.00")
    assert services.stock_release(actor=advisor, part=part, reference=RO) == Decimal("1.00")
    assert services.stock_release(actor=advisor, part=part, reference=RO) == Decimal("0")
    assert balance(part) == (Decimal("3.00"), Decimal("0.00"))
    assert Reservation.objects.get(part=part).status == "released"


def test_return_cannot_exceed_what_was_issued(demo):
    advisor = actor_for("advisor_a1", "a")
    part = make_part(on_hand="3")
    services.stock_issue(actor=advisor, part=part, qty=2, reference=RO)
    with pytest.raises(Conflict):
        services.stock_return(actor=advisor, part=part, qty=3, reference=RO)
    with pytest.raises(Conflict):
        services.stock_return(actor=advisor, part=part, qty=1, reference=RO2)


def test_transfer_keeps_both_stores_consistent(demo):
    keeper = actor_for("service_manager_a", "a")
    part = make_part(on_hand="6", part_number="90915-YZZE1")
    b = Store.objects.get(code="b")
    out, incoming = services.stock_transfer(actor=keeper, part=part, qty=4, to_store=b.pk, idempotency_key="tr-1")
    there = Part.objects.get(store=b, part_number="90915-YZZE1")
    assert balance(part)[0] == Decimal("2.00") and balance(there)[0] == Decimal("4.00")
    assert out.quantity == -incoming.quantity and incoming.store_id == b.pk and out.other_store_id == b.pk
    again = services.stock_transfer(actor=keeper, part=part, qty=4, to_store=b.pk, idempotency_key="tr-1")
    assert [m.pk for m in again] == [out.pk, incoming.pk] and balance(part)[0] == Decimal("2.00")
    with pytest.raises(Conflict):
        services.stock_transfer(actor=keeper, part=part, qty=3, to_store=b.pk)
    with pytest.raises(ValidationError) as exc:
        services.stock_transfer(actor=keeper, part=part, qty=1, to_store=part.store_id)
    assert "to_store" in exc.value.fields
    assert ledger_sum(part) + ledger_sum(there) == Decimal("6.00")


def test_purchase_order_receiving_writes_receipts(demo):
    keeper = actor_for("service_manager_a", "a")
    supplier = make_supplier()
    p1, p2 = make_part(), make_part()
    order = services.po_create(actor=keeper, supplier=supplier, lines=[
        {"part": p1.pk, "quantity": 10, "unit_cost": "20.00"}, {"part": p2.pk, "quantity": "2"}])  # fmt: skip
    assert order.status == "draft" and order.number.startswith("PO")
    with pytest.raises(Conflict):
        services.po_receive(actor=keeper, order=order)
    services.po_send(actor=keeper, order=order)
    l1, _l2 = order.lines.order_by("pk")
    with pytest.raises(ValidationError):
        services.po_receive(actor=keeper, order=order, quantities={l1.pk: 11})
    order = services.po_receive(actor=keeper, order=order, quantities={l1.pk: 6})
    assert order.status == "partly_received" and balance(p1)[0] == Decimal("6.00")
    order = services.po_receive(actor=keeper, order=order)
    assert order.status == "received" and balance(p1)[0] == Decimal("10.00") and balance(p2)[0] == Decimal("2.00")
    receipt = StockMovement.objects.filter(part=p1).first()
    assert receipt.reference_kind == "parts.purchaseorderline" and receipt.unit_cost == Decimal("20.00")
    with pytest.raises(Conflict):
        services.po_cancel(actor=keeper, order=order)


def test_reorder_alert_once_per_crossing_and_po_from_alerts(demo):
    keeper, advisor = actor_for("service_manager_a", "a"), actor_for("advisor_a1", "a")
    supplier = make_supplier()
    part = make_part(on_hand="10", reorder_point="3", reorder_qty="12", supplier=supplier.pk)
    with capture() as events:
        services.stock_issue(actor=advisor, part=part, qty=6, reference=RO)  # 4 left: above
        services.stock_issue(actor=advisor, part=part, qty=1, reference=RO)  # 3: at the point → alert
        services.stock_issue(actor=advisor, part=part, qty=1, reference=RO)  # 2: still low, no new alert
    assert events.names().count("parts.stock_low") == 1
    assert StaffNotification.objects.filter(kind="parts.low_stock").count() == 1
    order = services.po_from_alerts(actor=keeper, supplier=supplier)
    assert [(line.part_id, line.quantity) for line in order.lines.all()] == [(part.pk, Decimal("12.00"))]
    services.stock_receive(actor=keeper, part=part, qty=12)  # back above: re-armed
    services.stock_issue(actor=advisor, part=part, qty=12, reference=RO)
    assert StaffNotification.objects.filter(kind="parts.low_stock").count() == 2


@pytest.mark.parametrize("qty", ["-1", "0", "1e30", "1000000", "0.001", "NaN", "Infinity", "x", True, None, "1\x00"])
def test_hostile_quantities_are_400_naming_the_field(demo, qty):
    part = make_part(on_hand="5")
    with pytest.raises(ValidationError) as exc:
        services.stock_issue(actor=actor_for("advisor_a1", "a"), part=part, qty=qty, reference=RO)
    assert "quantity" in exc.value.fields
    assert balance(part) == (Decimal("5.00"), Decimal("0"))


@pytest.mark.parametrize("ref", [None, "ro-1", ("", 1), ("Service RO", 1), ("service.ro", 0), ("service.ro", "1"),
                                 ("service.ro", 2**70), ("x\x00", 1)])  # fmt: skip
def test_bad_reference_is_400(demo, ref):
    part = make_part(on_hand="5")
    with pytest.raises(ValidationError) as exc:
        services.stock_reserve(actor=actor_for("advisor_a1", "a"), part=part, qty=1, reference=ref)
    assert "reference" in exc.value.fields


def test_permissions_and_other_store(demo):
    part = make_part(on_hand="5")
    with pytest.raises(PermissionDenied):  # a technician reads stock, does not issue it
        services.stock_issue(actor=actor_for("tech_a1", "a"), part=part, qty=1, reference=RO)
    with pytest.raises(PermissionDenied):  # an advisor does not adjust
        services.stock_adjust(actor=actor_for("advisor_a1", "a"), part=part, qty=1, reason="x")
    with pytest.raises(PermissionDenied):  # store b's advisor cannot touch store a's part
        services.stock_issue(actor=actor_for("advisor_b1", "b"), part=part, qty=1, reference=RO)
    with pytest.raises(NotFound):  # a store that is not the part's
        services.stock_issue(actor=actor_for("advisor_a1", "a"), part=part, qty=1, reference=RO,
                             store=Store.objects.get(code="b"))  # fmt: skip


def test_catalogue_number_unique_and_hostile_fields(demo):
    make_part(part_number="04465-0K240")
    with pytest.raises(Conflict) as exc:
        make_part(part_number="04465-0k240")
    assert "part_number" in exc.value.fields
    make_part("b", part_number="04465-0K240")  # another store's catalogue is its own
    with pytest.raises(ValidationError) as exc:
        make_part(part_number="X\x00", name="a" * 101, price="-1", unit="ton")
    assert set(exc.value.fields) == {"part_number", "name", "price", "unit"}


def test_database_refuses_negative_stock_as_last_line(demo):
    part = make_part(on_hand="1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Part.objects.filter(pk=part.pk).update(on_hand=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Part.objects.filter(pk=part.pk).update(reserved=Decimal("2"))


def test_idempotent_receipt(demo):
    keeper = actor_for("service_manager_a", "a")
    part, other = make_part(), make_part()
    first = services.stock_receive(actor=keeper, part=part, qty=5, idempotency_key="grn-77")
    assert services.stock_receive(actor=keeper, part=part, qty=5, idempotency_key="grn-77").pk == first.pk
    assert balance(part)[0] == Decimal("5.00")
    with pytest.raises(Conflict):
        services.stock_receive(actor=keeper, part=other, qty=5, idempotency_key="grn-77")
    assert PurchaseOrder.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_two_repair_orders_issue_the_last_unit_one_wins(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    part = make_part(on_hand="1")
    barrier, results = threading.Barrier(2), {}

    def run(name, ref):
        from django.db import connections

        try:
            actor = actor_for("advisor_a1", "a")
            seen = Part.objects.get(pk=part.pk)
            barrier.wait()
            services.stock_issue(actor=actor, part=seen, qty=1, reference=ref)
            results[name] = 200
        except Conflict:
            results[name] = 409
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, r)) for n, r in (("one", RO), ("two", RO2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    assert balance(part) == (Decimal("0.00"), Decimal("0.00"))
    assert StockMovement.objects.filter(part=part, kind="issue").count() == 1
