"""The header's store switch filters the lists (issue 9, item 8): a director who picks a store
sees that store's customers and vehicles; with "all stores" the lists show a store column and
a store filter; the switcher says what it changes. The API's ``?store=`` narrows within the
actor's scope only. Managers and consultants stay in their store whatever they send."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import Membership, User
from autocrm.accounts.services import token_issue_session, user_create
from autocrm.customers.models import Customer
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.services import vehicle_create

from .factories import actor_for, make_customer

VIN_A = "LSJA24U62JG269225"
VIN_B = "LFV2A21K20E415558"


@pytest.fixture
def world(demo):
    a1, b1 = actor_for("sales_a1", "a"), actor_for("sales_b1", "b")
    own_a = make_customer(a1, name="张伟")
    own_b = make_customer(b1, name="赵雷")
    vehicle_create(actor=a1, data={"vin": VIN_A, "plate": "沪AD12345"}, customer=own_a)
    vehicle_create(actor=b1, data={"vin": VIN_B, "plate": "浙A12345"}, customer=own_b)
    # Another dealer group, with a customer of its own: never seen, whatever is sent.
    other_org = Organization.objects.create(code="other", name="Other group")
    other_store = Store.objects.create(organization=other_org, code="x", name="别家店")
    stranger = user_create(organization_id=other_org.pk, username="stranger", password="autocrm-demo-x1!")
    Membership.objects.create(user=stranger, organization=other_org, store=other_store, role="manager")
    Customer.objects.create(store=other_store, name="孙丽", kind="person")
    return {
        "a": Store.objects.get(code="a"),
        "b": Store.objects.get(code="b"),
        "other": other_store,
    }


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def names(client: Client, url_name: str = "customers:customer_list", **params) -> list[str]:
    body = client.get(reverse(url_name), params).content.decode()
    return sorted(re.findall(r'class="customer-name">([^<]+)<', body))


def plates(client: Client, **params) -> list[str]:
    body = client.get(reverse("vehicles:vehicle_list"), params).content.decode()
    return sorted(re.findall(r'class="fw-bold">([^<]+)<', body))


def switch(client: Client, store) -> None:
    value = store if isinstance(store, str) else store.pk
    response = client.post(reverse("accounts:switch_store"), {"store": value, "next": reverse("home")})
    assert response.status_code == 302


def test_director_sees_the_store_picked_in_the_header(client, world):
    login(client, "director")
    switch(client, world["a"])
    response = client.get(reverse("customers:customer_list"))
    assert names(client) == ["张伟"]
    body = response.content.decode()
    assert 'data-testid="list-store"' in body and world["a"].name in body
    assert 'data-testid="store-column"' not in body
    assert plates(client) == ["沪AD12345"]
    switch(client, world["b"])
    assert names(client) == ["赵雷"]
    assert plates(client) == ["浙A12345"]


def test_the_export_downloads_the_store_the_list_shows(client, world):
    """A director's list of one store exports that store's customers, not the whole group."""
    login(client, "director")
    switch(client, world["b"])
    body = client.get(reverse("customers:customer_list")).content.decode()
    link = re.search(r'href="([^"]*/export/customers/\?[^"]*format=csv)"', body)
    assert link, "the list offers a CSV export"
    url = link.group(1).replace("&amp;", "&")
    assert f"store={world['b'].pk}" in url
    csv_text = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
    assert "赵雷" in csv_text and "张伟" not in csv_text and "孙丽" not in csv_text


def test_director_with_all_stores_gets_a_store_column_and_filter(client, world):
    login(client, "director")
    switch(client, "all")
    response = client.get(reverse("customers:customer_list"))
    body = response.content.decode()
    assert names(client) == ["张伟", "赵雷"]
    assert 'data-testid="store-column"' in body and 'name="store"' in body
    assert world["a"].name in body and world["b"].name in body
    assert world["other"].name not in body and "孙丽" not in body
    assert names(client, store=world["b"].pk) == ["赵雷"]
    consultants = [label for value, label in response.context["form"].fields["consultant"].choices if value]
    assert {"李娜", "周婷"} <= set(consultants)  # sales_a1 and sales_b1: the consultants of every listed store
    # A store outside the organization is not a choice: the filter is dropped, never obeyed.
    assert "孙丽" not in names(client, store=world["other"].pk)
    vehicles = client.get(reverse("vehicles:vehicle_list")).content.decode()
    assert 'data-testid="store-column"' in vehicles and plates(client) == ["沪AD12345", "浙A12345"]
    assert plates(client, store=world["a"].pk) == ["沪AD12345"]
    # The header says so, and picking one store again narrows the lists again.
    assert "store-all" in body
    switch(client, world["a"])
    assert names(client) == ["张伟"]


def test_the_switcher_says_what_it_changes(client, world):
    login(client, "director")
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="store-switch-help"' in body and 'data-testid="store-all"' in body
    login(client, "sales_a1")
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="store-all"' not in body


def test_manager_and_consultant_cannot_pick_all_stores_or_another_store(client, world):
    for username, expected in (("manager_a", ["张伟"]), ("sales_a1", ["张伟"])):
        login(client, username)
        response = client.post(reverse("accounts:switch_store"), {"store": "all"})
        assert response.status_code == 404
        assert names(client) == expected
        assert names(client, store=world["b"].pk) == expected  # not a filter they have: ignored
        body = client.get(reverse("customers:customer_list")).content.decode()
        assert 'data-testid="store-column"' not in body and 'data-testid="list-store"' not in body
        assert plates(client, store=world["b"].pk) == ["沪AD12345"]


def bearer(username: str) -> dict[str, Any]:  # Client.get's **extra: typed parameters share it
    _, secret = token_issue_session(user=User.objects.get(username=username))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def api_names(username: str, path: str = "/api/v1/customers", **params) -> list[str]:
    response = Client().get(path, params, **bearer(username))
    assert response.status_code == 200, response.content
    return sorted(item.get("name") or item.get("plate") for item in response.json()["items"])


def test_api_store_filter_narrows_within_scope_only(client, world):
    a, b, other = world["a"].pk, world["b"].pk, world["other"].pk
    assert api_names("director") == ["张伟", "赵雷"]
    assert api_names("director", store=b) == ["赵雷"]
    assert api_names("director", store=other) == []  # another group's store: nothing, never its data
    assert api_names("director", "/api/v1/vehicles", store=a) == ["沪AD12345"]
    assert api_names("manager_a", store=b) == []
    assert api_names("manager_a", store=a) == ["张伟"]
    assert api_names("sales_a1", "/api/v1/vehicles", store=b) == []


def test_api_bad_filter_value_is_a_400_naming_it(client, world):
    response = Client().get("/api/v1/customers", {"lifecycle_stage": "nonsense"}, **bearer("manager_a"))
    assert response.status_code == 400
    assert "lifecycle_stage" in response.json()["fields"]
    response = Client().get("/api/v1/vehicles", {"fuel_type": "steam"}, **bearer("manager_a"))
    assert response.status_code == 400 and "fuel_type" in response.json()["fields"]
