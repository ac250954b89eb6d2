"""The demo loader writes valid, deterministic, idempotent data the rest of the app can use."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from autocrm.core import identifiers
from autocrm.core.roles import Role
from autocrm.customers.models import Consent, Customer, TimelineEvent
from autocrm.customers.quality import quality_report
from autocrm.customers.tests.factories import actor_for
from autocrm.demo.loader import demo_customers_load
from autocrm.demo.services import demo_create
from autocrm.vehicles.models import Brand, OdometerReading, Ownership, Trim, Vehicle

TODAY = datetime.date(2026, 6, 1)


def load(demo, n=15, seed=7, **kw):
    return demo_customers_load(organization=demo["organization"], stores=demo["stores"], customers=n, seed=seed,
                               today=TODAY, **kw)  # fmt: skip


def snapshot():
    customers = [
        (c.store.code, c.external_id, c.name, c.mobile, c.id_number, c.address, c.consultant.username)
        for c in Customer.objects.select_related("store", "consultant").order_by("store__code", "external_id")
    ]
    vehicles = [
        (v.store.code, v.vin, v.plate, v.customer.external_id, v.mileage_km, v.trim.name)
        for v in Vehicle.objects.select_related("store", "customer", "trim").order_by("vin")
    ]
    readings = sorted(OdometerReading.objects.values_list("vehicle__vin", "km", "at"))
    return customers, vehicles, readings


def wipe():
    for model in (OdometerReading, Ownership, TimelineEvent, Consent, Vehicle):
        model.objects.all().delete()
    Customer.tags.through.objects.all().delete()
    Customer.objects.all().delete()


def test_same_seed_same_data_other_seed_other_data(demo):
    load(demo)
    first = snapshot()
    wipe()
    load(demo)
    assert snapshot() == first
    wipe()
    load(demo, seed=8)
    assert snapshot()[0] != first[0]


def test_every_row_passes_the_identifier_rules(demo):
    stats = load(demo, n=40)
    assert stats.customers >= 80 and stats.vehicles >= 80 and stats.readings > stats.vehicles
    mobile_index = Customer._meta.get_field("mobile_index")
    for c in Customer.objects.select_related("store"):
        assert identifiers.normalize_mobile(c.mobile) == c.mobile
        if c.id_number:
            assert identifiers.normalize_id_number(c.id_number, today=TODAY) == c.id_number
            assert identifiers.id_birth_date(c.id_number) == c.birthday
        assert c.name_pinyin and c.name_initials and c.mobile_last4 == c.mobile[-4:]
        assert c.mobile_index == mobile_index.compute(c.mobile)
        assert Customer.objects.filter(pk=c.pk, **mobile_index.lookup(c.mobile)).exists()
        assert c.consultant.memberships.get(store=c.store).role == Role.SALES
    prefixes = {"a": ("沪",), "b": ("浙A",)}
    for v in Vehicle.objects.select_related("store", "customer", "trim__series__brand"):
        vin, _warnings = identifiers.vin_validate(v.vin)
        assert vin == v.vin
        assert identifiers.normalize_plate(v.plate) == v.plate and v.plate.startswith(prefixes[v.store.code])
        assert v.plate_kind == identifiers.plate_kind(v.plate)
        assert v.customer.store_id == v.store_id
        assert v.brand_id == v.trim.series.brand_id and v.fuel_type == v.trim.fuel_type
        kms = list(v.readings.order_by("at").values_list("km", flat=True))
        assert kms == sorted(kms) and kms[-1] == v.mileage_km
        assert v.ownerships.get(ended_on__isnull=True).customer_id == v.customer_id
    assert Vehicle.objects.values("vin").distinct().count() == Vehicle.objects.count()
    # A few records are incomplete on purpose (the data-quality report shows them), none invalid.
    assert Customer.objects.filter(id_number_index="").exists() and Customer.objects.filter(community="").exists()
    for sq in quality_report(actor=actor_for("director")):
        assert sq.invalid == 0 and 0 < sq.counts["missing_address"] < sq.customers / 10
    assert Brand.objects.filter(name__in=["比亚迪", "丰田"]).count() == 2 and Trim.objects.exists()


def test_near_duplicates_keep_the_truth(demo):
    load(demo, n=60, duplicate_rate=0.3)
    dups = Customer.objects.filter(external_id__contains=":dup:")
    assert dups.count() >= 5
    same_mobile = 0
    for dup in dups:
        original_key = dup.external_id.rsplit(":", 1)[1]
        original = Customer.objects.get(store=dup.store, external_id=f"demo:{original_key}")
        assert original.name_pinyin == dup.name_pinyin and original.district == dup.district
        assert dup.id_number in (original.id_number, "")  # the same ID card, or none taken
        same_mobile += original.mobile_index == dup.mobile_index  # most kept their number
        assert not dup.vehicles.exists()  # the vehicles stay with the original (one VIN, one record)
    assert same_mobile > dups.count() / 2


def test_demo_is_idempotent_and_the_command_reports(db):
    out = StringIO()
    call_command("demo", customers=10, seed=3, stdout=out, skip_checks=True)
    assert "Demo customers:" in out.getvalue()
    counts = (Customer.objects.count(), Vehicle.objects.count(), OdometerReading.objects.count())
    assert counts[0] >= 20
    demo_create(customers=10, seed=3)
    out = StringIO()
    call_command("demo", customers=10, seed=3, stdout=out, skip_checks=True)
    assert "already present" in out.getvalue()
    assert (Customer.objects.count(), Vehicle.objects.count(), OdometerReading.objects.count()) == counts


def test_demo_without_customers_adds_none(demo):
    assert not Customer.objects.exists()
    demo_create(customers=0)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("code,manager", [("a", "manager_a"), ("b", "manager_b")])
def test_manager_finds_demo_customers_by_plate_tail_and_initials(demo, code, manager):
    from autocrm.customers.selectors import customer_list
    from autocrm.vehicles.selectors import vehicle_list

    load(demo, n=10)
    actor = actor_for(manager)
    vehicle = Vehicle.objects.filter(store__code=code).first()
    assert vehicle in vehicle_list(actor=actor, filters={"q": vehicle.plate[-5:]})
    assert list(vehicle_list(actor=actor, filters={"q": vehicle.vin[-6:]})) == [vehicle]
    assert not vehicle_list(actor=actor, filters={"q": vehicle.plate[-5:-1]}).filter(pk=vehicle.pk).exists()
    customer = vehicle.customer
    assert customer in customer_list(actor=actor, filters={"q": customer.name_initials})
