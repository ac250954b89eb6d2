"""Vehicles known by their plate only (issue 10, item 5): entered on the form, the API and the
import with a warning, the VIN added later with the same checks; lists, pages, search, quality
checks and export without a VIN; the (store, external ID) key held by the database under a race."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation

from autocrm.accounts.models import User
from autocrm.core.errors import Conflict, ValidationError
from autocrm.customers.quality import quality_customers, quality_report
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.customers.tests.test_api import bearer
from autocrm.customers.tests.test_import import reasons, xlsx_upload
from autocrm.imports.importing import import_job_commit, import_job_create
from autocrm.vehicles import services
from autocrm.vehicles.models import Vehicle
from autocrm.vehicles.services import vehicle_create, vehicle_update

VIN = "LSJA24U62JG269225"
VIN2 = "LSVAU218XN2183294"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def advisor(demo):
    return actor_for("advisor_a1")


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


# --- the service --------------------------------------------------------------------------------


def test_a_plate_alone_keeps_the_car_with_a_warning(advisor):
    v = vehicle_create(actor=advisor, data={"plate": "沪a 12345"})
    assert (v.vin, v.plate, v.maker) == ("", "沪A12345", "")
    assert "VIN missing; add it later." in v.warnings
    assert v.vin_warnings == []  # the stored VIN warnings are about a VIN, not its absence
    # Several cars without a VIN in one organization: the VIN uniqueness holds for VINs only.
    other = vehicle_create(actor=actor_for("advisor_b1"), data={"plate": "浙A54321"})
    assert Vehicle.objects.filter(vin="").count() == 2 and other.vin == ""


@pytest.mark.parametrize("data", [{}, {"vin": "", "plate": ""}, {"vin": " ", "plate": None}])
def test_neither_vin_nor_plate_is_refused_on_the_vin(advisor, data):
    with pytest.raises(ValidationError) as exc:
        vehicle_create(actor=advisor, data=data)
    assert exc.value.fields["vin"] == [services.VIN_OR_PLATE]
    assert not Vehicle.objects.exists()


def test_the_vin_added_later_has_the_same_checks_and_uniqueness(advisor, manager):
    registered = vehicle_create(actor=manager, data={"vin": VIN})
    v = vehicle_create(actor=advisor, data={"plate": "沪A12345"})
    with pytest.raises(ValidationError) as exc:  # a Chinese VIN with a wrong check digit
        vehicle_update(actor=advisor, vehicle=v, data={"vin": "LSJA24U63JG269225"})
    assert "vin" in exc.value.fields
    with pytest.raises(Conflict) as conflict:  # already registered in the organization
        vehicle_update(actor=advisor, vehicle=Vehicle.objects.get(pk=v.pk), data={"vin": VIN.lower()})
    assert conflict.value.existing_id == registered.pk
    v = vehicle_update(actor=advisor, vehicle=Vehicle.objects.get(pk=v.pk), data={"vin": VIN2, "plate": "沪A12345"})
    v.refresh_from_db()
    assert v.vin == VIN2 and v.maker  # decoded once the VIN is known
    assert "VIN missing; add it later." not in vehicle_update(actor=advisor, vehicle=v, data={"colour": "白"}).warnings


def test_a_known_vin_is_corrected_never_removed_and_a_plate_only_car_keeps_its_plate(advisor):
    v = vehicle_create(actor=advisor, data={"vin": VIN, "plate": "沪A12345"})
    with pytest.raises(ValidationError) as exc:
        vehicle_update(actor=advisor, vehicle=v, data={"vin": ""})
    assert "vin" in exc.value.fields
    assert Vehicle.objects.get(pk=v.pk).vin == VIN
    plate_only = vehicle_create(actor=advisor, data={"plate": "沪A54321"})
    with pytest.raises(ValidationError) as exc:
        vehicle_update(actor=advisor, vehicle=plate_only, data={"plate": ""})
    assert exc.value.fields["vin"] == [services.VIN_OR_PLATE]
    assert Vehicle.objects.get(pk=plate_only.pk).plate == "沪A54321"


def test_a_plate_another_car_of_the_store_has_is_a_warning_not_a_refusal(advisor):
    first = vehicle_create(actor=advisor, data={"vin": VIN, "plate": "沪A12345"})
    second = vehicle_create(actor=advisor, data={"plate": "沪A12345"})
    assert any("沪A12345" in w and "another vehicle" in w.lower() for w in second.warnings)
    assert not any("another vehicle" in w.lower() for w in vehicle_create(
        actor=actor_for("advisor_b1"), data={"plate": "沪A12345"}).warnings)  # another store: no warning  # fmt: skip
    assert Vehicle.objects.filter(plate="沪A12345").count() == 3 and first.pk != second.pk


# --- external ID: the database holds the key ----------------------------------------------------


def _first_check_misses(monkeypatch):
    """The check before the insert finds nothing, once per thread: what a create sees when a
    concurrent one has written the key but not committed yet."""
    real, seen = services._external_id_conflict, threading.local()

    def check(**kw):
        if not getattr(seen, "done", False):
            seen.done = True
            return None
        return real(**kw)

    monkeypatch.setattr(services, "_external_id_conflict", check)


def test_external_id_taken_is_a_409_even_when_the_check_before_the_insert_missed_it(advisor, monkeypatch):
    vehicle_create(actor=advisor, data={"plate": "沪A12345", "external_id": "DMS-9"})
    with pytest.raises(Conflict) as exc:
        vehicle_create(actor=advisor, data={"plate": "沪A54321", "external_id": "DMS-9"})
    assert "external_id" in exc.value.fields
    # A concurrent create passed the check before this one wrote: the unique constraint decides.
    _first_check_misses(monkeypatch)
    with pytest.raises(Conflict) as exc:
        vehicle_create(actor=advisor, data={"plate": "沪A54321", "external_id": "DMS-9"})
    assert "external_id" in exc.value.fields
    # Another store may use the same key; an empty key is never taken.
    vehicle_create(actor=actor_for("advisor_b1"), data={"plate": "浙A12345", "external_id": "DMS-9"})
    vehicle_create(actor=advisor, data={"plate": "沪A11111"})
    vehicle_create(actor=advisor, data={"plate": "沪A22222"})
    assert Vehicle.objects.filter(external_id="DMS-9").count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections writing at once: PostgreSQL")
def test_two_concurrent_creates_with_one_external_id_one_wins_the_other_gets_409(committed_db, monkeypatch):
    from autocrm.demo.services import demo_create

    demo_create()
    first_written, let_first_commit = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}
    # Both creates pass the check before the insert (neither sees the other's uncommitted row).
    _first_check_misses(monkeypatch)

    def create(name: str, plate: str, *, hold: bool) -> None:
        try:
            with transaction.atomic():
                outcome[name] = vehicle_create(actor=actor_for("advisor_a1"),
                                               data={"plate": plate, "external_id": "DMS-RACE"})  # fmt: skip
                if hold:
                    first_written.set()
                    let_first_commit.wait(10)
        except Exception as exc:  # the outcome is asserted below
            outcome[name] = exc
        finally:
            first_written.set()
            connection.close()

    a = threading.Thread(target=create, args=("a", "沪A12345"), kwargs={"hold": True})
    a.start()
    assert first_written.wait(10)
    b = threading.Thread(target=create, args=("b", "沪A54321"), kwargs={"hold": False})
    b.start()  # its insert waits on the unique index for a's transaction, or finds a's row
    let_first_commit.set()
    a.join(10)
    b.join(10)
    assert isinstance(outcome["a"], Vehicle)
    assert isinstance(outcome["b"], Conflict) and "external_id" in outcome["b"].fields
    assert Vehicle.objects.filter(external_id="DMS-RACE").count() == 1


# --- the pages, the API, search ------------------------------------------------------------------


def test_form_saves_a_plate_only_car_and_every_page_shows_vin_missing(client, demo):
    a1 = actor_for("sales_a1")
    owner = make_customer(a1, name="张伟", mobile="13812345678")
    login(client, "sales_a1")
    url = reverse("vehicles:vehicle_create") + f"?customer={owner.pk}"
    response = client.post(url, {"customer": owner.pk, "vin": "", "plate": "沪A12345"}, follow=True)
    assert response.status_code == 200
    v = Vehicle.objects.get()
    assert (v.vin, v.plate, v.customer_id) == ("", "沪A12345", owner.pk)
    body = response.content.decode()
    with translation.override("zh-hans"):  # the user's language
        assert str(services.VIN_MISSING) in body  # the save's warning, on the 360 it lands on
    assert 'data-testid="vin-missing"' in body and "None" not in body.split('id="vehicles"')[1][:3000]
    for page in (reverse("vehicles:vehicle_detail", args=[v.pk]), reverse("vehicles:vehicle_list")):
        text = client.get(page).content.decode()
        assert 'data-testid="vin-missing"' in text, page
    search = client.get(reverse("vehicles:vehicle_list"), {"q": "12345"}).content.decode()
    assert f'data-vehicle-id="{v.pk}"' in search
    found = client.get(reverse("customers:customer_list"), {"q": "沪A12345"}).content.decode()
    assert "张伟" in found
    # Neither VIN nor plate: the form says so on the VIN.
    response = client.post(url, {"customer": owner.pk, "vin": "", "plate": ""})
    assert response.status_code == 200 and response.context["form"].errors["vin"]
    # The VIN added later on the edit page.
    response = client.post(reverse("vehicles:vehicle_edit", args=[v.pk]), {"vin": VIN, "plate": "沪A12345"})
    assert response.status_code == 302
    v.refresh_from_db()
    assert v.vin == VIN
    assert (
        'data-testid="vin-missing"' not in client.get(reverse("vehicles:vehicle_detail", args=[v.pk])).content.decode()
    )


def test_first_vehicle_on_the_customer_create_page_may_be_a_plate_only(demo):
    from autocrm.core.forms import create_extras

    (extra,) = [e for e in create_extras("customers.customer", actor_for("sales_a1")) if e.key == "vehicle"]
    checked = extra.check(actor_for("sales_a1"), {"vin": "", "plate": "沪A12345"})
    assert checked["data"]["plate"] == "沪A12345"
    with pytest.raises(ValidationError):
        extra.check(actor_for("sales_a1"), {"vin": "", "plate": "沪A1"})  # a bad plate is still an error


def test_api_create_without_vin_then_patch_the_vin(demo):
    api, h = Client(), {**bearer("advisor_a1"), "HTTP_ACCEPT_LANGUAGE": "en"}
    r = api.post("/api/v1/vehicles", {"plate": "沪A12345"}, content_type="application/json", **h)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["vin"] == "" and body["vin_missing"] is True and "VIN missing; add it later." in body["warnings"]
    vid = body["id"]
    assert api.get(f"/api/v1/vehicles/{vid}", **h).json()["vin_missing"] is True
    assert [v["id"] for v in api.get("/api/v1/vehicles", {"q": "沪A12345"}, **h).json()["items"]] == [vid]
    r = api.post("/api/v1/vehicles", {}, content_type="application/json", **h)
    assert r.status_code == 400 and "vin" in r.json()["fields"]
    r = api.patch(f"/api/v1/vehicles/{vid}", {"vin": VIN}, content_type="application/json", **h)
    assert r.status_code == 200 and r.json()["vin"] == VIN and r.json()["vin_missing"] is False
    r = api.patch(f"/api/v1/vehicles/{vid}", {"vin": ""}, content_type="application/json", **h)
    assert r.status_code == 400 and "vin" in r.json()["fields"]


# --- quality checks and export -------------------------------------------------------------------


def test_quality_lists_cars_without_a_vin_and_plates_on_two_cars(manager):
    owner = make_customer(manager, name="张伟", mobile="13812345678")
    other = make_customer(manager, name="李娜", mobile="13912345678")
    vehicle_create(actor=manager, data={"plate": "沪A12345"}, customer=owner)
    vehicle_create(actor=manager, data={"vin": VIN, "plate": "沪A54321"}, customer=owner)
    vehicle_create(actor=manager, data={"vin": VIN2, "plate": "沪A54321"}, customer=other)
    (sq,) = quality_report(actor=manager, refresh=True)
    assert sq.counts["missing_vin"] == 1 and sq.counts["invalid_vin"] == 0  # an empty VIN is missing, not invalid
    assert sq.counts["shared_plate"] == 2
    assert [c.pk for c in quality_customers(actor=manager, problem="missing_vin")] == [owner.pk]
    assert {c.pk for c in quality_customers(actor=manager, problem="shared_plate")} == {owner.pk, other.pk}


def test_export_of_a_plate_only_car_has_an_empty_vin(client, manager):
    from autocrm.imports import exporting

    vehicle_create(actor=manager, data={"plate": "沪A12345"})
    exporter = exporting.exporter_for("vehicles")
    columns = exporter.columns(manager, False)
    (row,) = [[c.value(o) for c in columns] for o in exporter.queryset(manager, {})]
    names = [c.key for c in columns]
    assert row[names.index("vin")] == "" and row[names.index("plate")] == "沪A12345"
    assert None not in (row[names.index("vin")], row[names.index("plate")])


# --- the import ----------------------------------------------------------------------------------

HEADER = ["车牌号", "车架号", "客户手机", "外部编号"]


def test_import_keeps_cars_without_vins_and_adds_the_vin_later(manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    owner = make_customer(manager, name="张伟", mobile="13812345678")
    rows = [["车牌号", "客户手机"], ["沪A12345", "13812345678"], ["沪A54321", ""], ["", "13812345678"]]
    job = import_job_create(actor=manager, upload=xlsx_upload(rows, name="plates.xlsx"), kind="vehicles")
    assert reasons(job) == {(4, "vin"): str(services.VIN_OR_PLATE)}
    warned = {(w["row"], w["field"]) for w in job.report["warnings"]}
    assert {(2, "vin"), (3, "vin")} <= warned
    job = import_job_commit(actor=manager, job=job, mode="valid_only")
    assert job.status == "done" and job.created_count == 2, job.error
    car = Vehicle.objects.get(plate="沪A12345")
    assert (car.vin, car.customer_id) == ("", owner.pk)
    # The same spreadsheet again: the cars are found by their plates, not created twice.
    job = import_job_commit(
        actor=manager, job=import_job_create(actor=manager, upload=xlsx_upload(rows[:3], name="again.xlsx"),
                                             kind="vehicles"))  # fmt: skip
    assert (job.created_count, job.updated_count) == (0, 2) and Vehicle.objects.count() == 2
    # A later file with the VINs gives the plate-only cars their VIN (checked, decoded).
    later = [["车牌号", "车架号"], ["沪A12345", VIN], ["沪A54321", "LSJA24U63JG269225"]]
    job = import_job_create(actor=manager, upload=xlsx_upload(later, name="vins.xlsx"), kind="vehicles")
    assert set(reasons(job)) == {(3, "vin")}  # a wrong check digit stays an error
    job = import_job_commit(actor=manager, job=job, mode="valid_only")
    assert (job.created_count, job.updated_count) == (0, 1)
    car.refresh_from_db()
    assert car.vin == VIN and car.maker and car.customer_id == owner.pk
    # A row without a VIN never clears the one now known.
    job = import_job_commit(
        actor=manager, job=import_job_create(actor=manager, upload=xlsx_upload(rows[:2], name="again2.xlsx"),
                                             kind="vehicles"))  # fmt: skip
    car.refresh_from_db()
    assert car.vin == VIN and job.updated_count == 1
    assert not any(w["field"] == "vin" for w in job.report["warnings"])  # the car has its VIN now


def test_import_plate_on_two_cars_warns_or_asks_for_the_vin(manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    vehicle_create(actor=manager, data={"vin": VIN, "plate": "沪A12345"})
    vehicle_create(actor=manager, data={"vin": VIN2, "plate": "沪A12345"})
    rows = [["车牌号", "车架号"], ["沪A12345", ""], ["沪A11111", "LFV2A21K3A3040101"]]
    job = import_job_create(actor=manager, upload=xlsx_upload(rows, name="p.xlsx"), kind="vehicles")
    assert set(reasons(job)) == {(2, "plate")}  # which of the two cars? the VIN would say
    vehicle_create(actor=manager, data={"plate": "沪A22222"})
    rows = [["车牌号", "车架号"], ["沪A22222", "LFV2A21K3A3040101"], ["沪A12345", "LGBH52E03KY000001"]]
    job = import_job_create(actor=manager, upload=xlsx_upload(rows, name="q.xlsx"), kind="vehicles")
    warned = {(w["row"], w["field"]) for w in job.report["warnings"]}
    assert (3, "plate") in warned and (2, "plate") not in warned  # row 2 fills the plate-only car
