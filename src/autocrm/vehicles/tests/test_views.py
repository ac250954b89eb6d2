"""The vehicle UI: add/edit with field errors and the VIN 409, the 360 panel with due dates,
readings with corrections, transfer by search, catalogue pickers, scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.vehicles.models import Brand, OdometerReading, Series, Trim, Vehicle
from autocrm.vehicles.services import vehicle_create

VIN = "LSJA24U62JG269225"


@pytest.fixture
def world(demo):
    a1 = actor_for("sales_a1", "a")
    a2 = actor_for("sales_a2", "a")
    b1 = actor_for("sales_b1", "b")
    return {
        "a1": a1,
        "own": make_customer(a1, name="张伟", mobile="13812345678"),
        "own2": make_customer(a1, name="李强", mobile="13812340000"),
        "colleague": make_customer(a2, name="王芳", mobile="13900009999"),
        "other_store": make_customer(b1, name="赵雷", mobile="13700007777"),
    }


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def html(response) -> str:
    return response.content.decode()


def test_add_vehicle_for_a_customer_and_see_it_on_the_360(client, world):
    customer = world["own"]
    login(client, "sales_a1")
    today = timezone.localdate()
    url = reverse("vehicles:vehicle_create") + f"?customer={customer.pk}"
    assert 'id="catalogue-empty"' in html(client.get(url))
    response = client.post(
        url,
        {
            "customer": customer.pk,
            "vin": VIN.lower(),
            "plate": "沪ad12345",
            "insurance_expiry": (today + dt.timedelta(days=10)).isoformat(),
            "inspection_due": (today - dt.timedelta(days=3)).isoformat(),
            "warranty_end": (today + dt.timedelta(days=400)).isoformat(),
            "mileage_km": "15000",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:customer_detail", args=[customer.pk])
    vehicle = Vehicle.objects.get()
    assert (vehicle.vin, vehicle.plate, vehicle.customer_id, vehicle.mileage_km) == (
        VIN,
        "沪AD12345",
        customer.pk,
        15000,
    )
    body = html(client.get(response["Location"]))
    assert 'data-panel="vehicles"' in body and "沪AD12345" in body
    assert 'data-due="insurance_expiry" data-status="soon"' in body
    assert 'data-due="inspection_due" data-status="overdue"' in body
    assert 'data-due="warranty_end" data-status="ok"' in body


def test_bad_vin_and_plate_are_shown_on_their_fields(client, world):
    login(client, "sales_a1")
    url = reverse("vehicles:vehicle_create") + f"?customer={world['own'].pk}"
    response = client.post(url, {"customer": world["own"].pk, "vin": "LSJA24U63JG269225", "plate": "沪A1"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["vin"] and errors["plate"]
    assert 'data-error-for="vin"' in html(response) and 'data-error-for="plate"' in html(response)
    assert not Vehicle.objects.exists()


def test_vin_already_registered_links_to_the_existing_vehicle_when_visible(client, world):
    existing = vehicle_create(actor=world["a1"], data={"vin": VIN}, customer=world["own"])
    login(client, "sales_a1")
    url = reverse("vehicles:vehicle_create") + f"?customer={world['own2'].pk}"
    response = client.post(url, {"customer": world["own2"].pk, "vin": VIN})
    assert response.status_code == 200
    assert response.context["form"].errors["vin"]
    assert reverse("vehicles:vehicle_detail", args=[existing.pk]) in html(response)
    # A colleague may not see sales_a1's customer's car: told it exists, not where.
    login(client, "sales_a2")
    url = reverse("vehicles:vehicle_create") + f"?customer={world['colleague'].pk}"
    response = client.post(url, {"customer": world["colleague"].pk, "vin": VIN})
    assert response.context["form"].errors["vin"]
    assert reverse("vehicles:vehicle_detail", args=[existing.pk]) not in html(response)
    assert Vehicle.objects.count() == 1


def test_vehicle_scope_and_404(client, world):
    own = vehicle_create(actor=world["a1"], data={"vin": VIN, "plate": "沪AD12345"}, customer=world["own"])
    login(client, "sales_a2")
    assert client.get(reverse("vehicles:vehicle_detail", args=[own.pk])).status_code == 404
    login(client, "manager_b")
    assert client.get(reverse("vehicles:vehicle_detail", args=[own.pk])).status_code == 404
    login(client, "sales_a1")
    response = client.get(reverse("vehicles:vehicle_detail", args=[own.pk]))
    assert response.status_code == 200 and "沪AD12345" in html(response)
    # Adding a car to a colleague's customer: the customer is not visible, so 404.
    url = reverse("vehicles:vehicle_create") + f"?customer={world['colleague'].pk}"
    assert client.get(url).status_code == 404


def test_readings_lower_needs_a_correction_reason(client, world):
    vehicle = vehicle_create(actor=world["a1"], data={"vin": VIN}, customer=world["own"], mileage_km=20000)
    login(client, "sales_a1")
    url = reverse("vehicles:reading_create", args=[vehicle.pk])
    response = client.post(url, {"km": "18000", "source": "reception"})
    assert response.status_code == 400
    assert response.context["reading_form"].errors["correction_reason"]
    assert OdometerReading.objects.filter(vehicle=vehicle).count() == 1
    response = client.post(url, {"km": "18000", "source": "reception", "correction_reason": "仪表更换"})
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.mileage_km == 18000
    body = html(client.get(reverse("vehicles:vehicle_detail", args=[vehicle.pk])))
    assert "仪表更换" in body and body.count('class="reading-row"') == 2


def test_transfer_by_search(client, world):
    vehicle = vehicle_create(actor=world["a1"], data={"vin": VIN}, customer=world["own"])
    # A consultant may not transfer: no form, and the POST is refused.
    login(client, "sales_a1")
    assert 'id="transfer-form"' not in html(client.get(reverse("vehicles:vehicle_detail", args=[vehicle.pk])))
    transfer = reverse("vehicles:vehicle_transfer", args=[vehicle.pk])
    assert client.post(transfer, {"new_owner": world["own2"].pk}).status_code == 403
    login(client, "manager_a")
    assert 'id="transfer-form"' in html(client.get(reverse("vehicles:vehicle_detail", args=[vehicle.pk])))
    candidates = html(client.get(reverse("vehicles:owner_search", args=[vehicle.pk]), {"q": "lq"}))
    assert f'value="{world["own2"].pk}"' in candidates and "李强" in candidates
    # Another store's customer is never a candidate, and posting its id is refused on the field.
    response = client.post(transfer, {"new_owner": world["other_store"].pk})
    assert response.status_code == 400 and response.context["transfer_form"].errors["new_owner"]
    response = client.post(transfer, {"new_owner": world["own2"].pk, "note": "二手转让"})
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert vehicle.customer_id == world["own2"].pk
    body = html(client.get(reverse("vehicles:vehicle_detail", args=[vehicle.pk])))
    assert body.count('class="ownership-row"') == 2 and "二手转让" in body


def test_catalogue_pickers(client, world):
    brand = Brand.objects.create(name="比亚迪")
    series = Series.objects.create(brand=brand, name="汉")
    trim = Trim.objects.create(series=series, name="EV 610km 尊享型", model_year=2024, fuel_type="electric")
    login(client, "sales_a1")
    page = html(client.get(reverse("vehicles:vehicle_create")))
    assert 'id="catalogue-empty"' not in page and "比亚迪" in page
    options = html(client.get(reverse("vehicles:catalogue_series"), {"brand": brand.pk}))
    assert f'<option value="{series.pk}">汉</option>' in options and 'hx-swap-oob="innerHTML"' in options
    options = html(client.get(reverse("vehicles:catalogue_trims"), {"series": series.pk}))
    assert "EV 610km 尊享型" in options
    response = client.post(
        reverse("vehicles:vehicle_create") + f"?customer={world['own'].pk}",
        {"customer": world["own"].pk, "vin": VIN, "brand": brand.pk, "series": series.pk, "trim": trim.pk},
    )
    assert response.status_code == 302
    vehicle = Vehicle.objects.get()
    assert (vehicle.brand_id, vehicle.series_id, vehicle.trim_id, vehicle.fuel_type) == (
        brand.pk,
        series.pk,
        trim.pk,
        "electric",
    )


def test_edit_vehicle(client, world):
    vehicle = vehicle_create(actor=world["a1"], data={"vin": VIN}, customer=world["own"])
    login(client, "sales_a1")
    url = reverse("vehicles:vehicle_edit", args=[vehicle.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"vin": VIN, "plate": "浙A12345", "colour": "白"})
    assert response.status_code == 302
    vehicle.refresh_from_db()
    assert (vehicle.plate, vehicle.colour) == ("浙A12345", "白")
    login(client, "agent_a1")  # the care desk reads vehicles, does not change them
    assert client.get(url).status_code == 403


def test_vehicle_list_search_scope_and_queries(client, demo, django_assert_max_num_queries):
    from autocrm.customers.tests.factories import actor_for, make_customer
    from autocrm.vehicles.services import vehicle_create

    sales = actor_for("sales_a1", "a")
    owner = make_customer(sales, name="车主甲")
    vehicle_create(actor=sales, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=owner)
    other = make_customer(actor_for("sales_a2", "a"), name="车主乙")
    vehicle_create(
        actor=actor_for("sales_a2", "a"), data={"vin": "1M8GDM9AXKP042788", "plate": "沪B54321"}, customer=other
    )
    client.login(username="sales_a1", password="autocrm-demo")
    url = reverse("vehicles:vehicle_list")
    client.get(url)
    with django_assert_max_num_queries(12):
        body = client.get(url).content.decode()
    assert "沪AD12345" in body and "车主甲" in body and "沪B54321" not in body  # only own customers' cars
    rows = client.get(url, {"q": "12345"}, HTTP_HX_REQUEST="true").content.decode()
    assert "沪AD12345" in rows and "<html" not in rows
    assert "沪AD12345" not in client.get(url, {"q": "99999"}).content.decode()
    client.login(username="manager_b", password="autocrm-demo")
    assert "沪AD12345" not in client.get(url).content.decode()


def test_consultant_home_lists_own_customers_cars_falling_due_today_first(client, world):
    today = timezone.localdate()
    vehicle_create(
        actor=world["a1"], data={"vin": VIN, "plate": "沪AD12345", "insurance_expiry": today}, customer=world["own"]
    )
    login(client, "sales_a1")
    home = html(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    # Not the consultant's first screen (their lead to-do is): a placeholder, loaded after the first paint.
    part = reverse("home_panel", args=["due"])
    assert 'data-home-panel="due"' in home and part in home and "沪AD12345" not in home
    body = html(client.get(part, HTTP_ACCEPT_LANGUAGE="zh-hans", HTTP_HX_REQUEST="true"))
    assert 'id="panel-due"' in body and "沪AD12345" in body and "<html" not in body
    assert "今天" in body and "0 天后" not in body
    assert "沪AD12345" in html(client.get(part))  # without JavaScript: the home page with that panel
    login(client, "sales_a2")
    assert "沪AD12345" not in html(client.get(part, HTTP_HX_REQUEST="true"))
