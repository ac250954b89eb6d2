"""An ``external_id`` is unique in its store (external systems upsert by it): a taken one is a 409
naming ``external_id`` in the API and a field error on the page — never an IntegrityError 500 — and
the answer is the same whether the holder is in the actor's scope or not, so it tells a consultant
nothing about a colleague's customers. A merge undo whose external ID was taken since explains itself."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from autocrm.core.errors import Conflict
from autocrm.customers.merging import customer_merge, customer_merge_undo
from autocrm.customers.models import Customer
from autocrm.customers.services import customer_update
from autocrm.vehicles.models import Vehicle
from autocrm.vehicles.services import vehicle_create, vehicle_update

from .factories import actor_for, make_customer
from .test_api import bearer

MESSAGE = "Another customer of this store already has this external ID."


@pytest.fixture
def held(demo):
    """DMS-1 held by a customer of sales_a1, DMS-2 by one of sales_a2 (outside sales_a1's scope)."""
    own = make_customer(actor_for("sales_a1"), name="张伟", external_id="DMS-1")
    colleague = make_customer(actor_for("sales_a2"), name="李娜", external_id="DMS-2")
    return own, colleague


def post_customer(client, username, **data):
    return client.post(
        "/api/v1/customers", {"name": "王强", **data}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en",
        **bearer(username),
    )  # fmt: skip


def test_taken_external_id_is_a_409_the_same_in_and_out_of_scope(held, client):
    before = Customer.objects.count()
    in_scope = post_customer(client, "sales_a1", external_id="DMS-1")
    out_of_scope = post_customer(client, "sales_a1", external_id="DMS-2")

    assert in_scope.status_code == out_of_scope.status_code == 409
    assert in_scope.json() == out_of_scope.json()
    assert in_scope.json()["fields"] == {"external_id": [MESSAGE]}
    assert "李娜" not in out_of_scope.content.decode() and str(held[1].pk) not in out_of_scope.json()["message"]
    assert Customer.objects.count() == before


def test_update_to_a_taken_external_id_is_a_409(held, client):
    mine = make_customer(actor_for("sales_a1"), name="王强")
    resp = client.patch(
        f"/api/v1/customers/{mine.pk}", {"external_id": "DMS-2"}, content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en", **bearer("sales_a1"),
    )  # fmt: skip
    assert resp.status_code == 409
    assert resp.json()["fields"] == {"external_id": [MESSAGE]}
    mine.refresh_from_db()
    assert mine.external_id == ""
    # keeping one's own external id is no conflict
    own = held[0]
    assert customer_update(actor=actor_for("sales_a1"), customer=own, data={"external_id": "DMS-1"}).external_id


def test_another_store_may_use_the_same_external_id(held, client):
    assert post_customer(client, "manager_b", external_id="DMS-2").status_code == 201


def test_taken_external_id_is_a_field_error_on_the_page(held, client):
    from autocrm.accounts.models import User

    client.force_login(User.objects.get(username="sales_a1"))
    resp = client.post(
        reverse("customers:customer_create"), {"kind": "person", "name": "王强", "external_id": "DMS-2"},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    assert resp.status_code == 200
    with translation.override("zh-hans"):
        translated = gettext(MESSAGE)
    body = resp.content.decode()
    assert MESSAGE in body or translated in body  # in the staff member's language
    assert not Customer.objects.filter(name="王强").exists()


def test_merge_undo_with_the_external_id_taken_since_explains_itself(demo):
    manager = actor_for("manager_a")
    survivor = make_customer(manager, name="张伟", mobile="13812345678")
    merged = make_customer(manager, name="张玮", mobile="13812340000", external_id="DMS-9")
    merge = customer_merge(actor=manager, survivor=survivor, merged=merged, choices={"external_id": "merged"})
    survivor.refresh_from_db()
    assert survivor.external_id == "DMS-9"
    customer_update(actor=manager, customer=survivor, data={"external_id": "DMS-10"})
    other = make_customer(manager, name="赵敏", external_id="DMS-9")

    with pytest.raises(Conflict) as caught:
        customer_merge_undo(actor=manager, merge=merge)

    assert list(caught.value.fields) == ["external_id"]
    assert "DMS-9" in str(caught.value.message)
    merged.refresh_from_db()
    assert merged.merged_into_id == survivor.pk  # nothing undone
    customer_update(actor=manager, customer=other, data={"external_id": ""})
    customer_merge_undo(actor=manager, merge=merge)
    merged.refresh_from_db()
    assert merged.external_id == "DMS-9" and merged.merged_into_id is None


def test_vehicle_external_id_taken_is_a_409(demo, client):
    manager = actor_for("manager_a")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "external_id": "V-1"})
    other = vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788"})
    resp = client.post(
        "/api/v1/vehicles", {"vin": "LVSHCAMB1CE054249", "external_id": "V-1"}, content_type="application/json",
        **bearer("manager_a"),
    )  # fmt: skip
    assert resp.status_code == 409 and list(resp.json()["fields"]) == ["external_id"]
    with pytest.raises(Conflict):
        vehicle_update(actor=manager, vehicle=other, data={"external_id": "V-1"})
    assert Vehicle.objects.filter(external_id="V-1").count() == 1
