"""The customer UI: list and search as you type, create/edit with duplicates on entry, and the
customer 360 page (masking, reveal, tags, consent, timeline, panels, bounded queries)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.customers.models import Consent, Customer
from autocrm.customers.services import consent_allows, consent_record, customer_tag, timeline_record

from .factories import actor_for, make_customer

MISSING_PK = 987654


@pytest.fixture
def world(demo):
    a1 = actor_for("sales_a1", "a")
    a2 = actor_for("sales_a2", "a")
    b1 = actor_for("sales_b1", "b")
    return {
        "own": make_customer(
            a1,
            name="张伟",
            mobile="13812345678",
            id_number="11010519491231002X",
            address="上海市浦东新区张杨路1200号",
            district="浦东新区",
        ),
        "colleague": make_customer(a2, name="王芳", mobile="13900009999"),
        "other_store": make_customer(b1, name="赵雷", mobile="13700007777"),
    }


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def html(response) -> str:
    return response.content.decode()


def names(body: str) -> list[str]:
    return re.findall(r'class="customer-name">([^<]+)<', body)


def _page404(response, pk) -> bytes:
    """The 404 page with what legitimately differs masked: the path and the CSRF token."""
    body = response.content.replace(f"/customers/{pk}/".encode(), b"/customers/<pk>/")
    return re.sub(rb'(csrfmiddlewaretoken" value="|csrf-token" content="|"X-CSRFToken": ")[^"]*', rb"\1<csrf>", body)


# --- access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, world):
    pk = world["own"].pk
    for url in (
        reverse("customers:customer_list"),
        reverse("customers:customer_create"),
        reverse("customers:customer_detail", args=[pk]),
        reverse("customers:customer_edit", args=[pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert client.post(reverse("customers:customer_reveal", args=[pk]), {"field": "mobile"}).status_code == 302
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def test_sales_sees_own_customers_only(client, world):
    login(client, "sales_a1")
    response = client.get(reverse("customers:customer_list"))
    assert response.status_code == 200
    body = html(response)
    assert "张伟" in body and "王芳" not in body and "赵雷" not in body
    assert client.get(reverse("customers:customer_detail", args=[world["own"].pk])).status_code == 200
    assert client.get(reverse("customers:customer_detail", args=[world["colleague"].pk])).status_code == 404


def test_out_of_scope_360_is_404_byte_identical_to_missing(client, world):
    login(client, "sales_a1")
    missing = client.get(reverse("customers:customer_detail", args=[MISSING_PK]))
    assert missing.status_code == 404
    for name in ("colleague", "other_store"):
        customer = world[name]
        response = client.get(reverse("customers:customer_detail", args=[customer.pk]))
        assert response.status_code == 404
        assert _page404(response, customer.pk) == _page404(missing, MISSING_PK)
        assert customer.name.encode() not in response.content


def test_manager_sees_the_store_and_director_the_organization(client, world):
    login(client, "manager_a")
    body = html(client.get(reverse("customers:customer_list")))
    assert "张伟" in body and "王芳" in body and "赵雷" not in body
    assert client.get(reverse("customers:customer_detail", args=[world["other_store"].pk])).status_code == 404
    login(client, "director")
    assert client.get(reverse("customers:customer_detail", args=[world["other_store"].pk])).status_code == 200


def test_role_without_customer_rights_gets_403_and_no_menu(client, world):
    login(client, "admin")
    assert client.get(reverse("customers:customer_list")).status_code == 403
    response = client.get(reverse("home"))
    assert "customers" not in [item["key"] for item in response.context["menu"]]
    assert 'id="global-search"' not in html(response)


def test_global_search_box_in_the_shell_goes_to_the_list(client, world):
    login(client, "sales_a1")
    body = html(client.get(reverse("home")))
    match = re.search(r'<form method="get" action="([^"]+)"[^>]*id="global-search"', body)
    assert match and match.group(1) == reverse("customers:customer_list")
    response = client.get(reverse("customers:customer_list"), {"q": "zw"})
    assert "张伟" in html(response)


def test_director_home_shows_customers_per_store_and_a_manager_does_not(client, world):
    login(client, "director")
    body = html(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert 'id="panel-stores"' in body and "各门店客户数" in body
    login(client, "manager_a")
    assert 'id="panel-stores"' not in html(client.get(reverse("home")))


# --- list and search -------------------------------------------------------------------------


def test_list_masks_the_mobile(client, world):
    login(client, "sales_a1")
    body = html(client.get(reverse("customers:customer_list")))
    assert "138****5678" in body
    assert "13812345678" not in body


def test_search_as_you_type_returns_the_rows_partial(client, world):
    login(client, "manager_a")
    url = reverse("customers:customer_list")
    page = html(client.get(url))
    assert 'hx-trigger="keyup changed delay:250ms, search"' in page
    for q, expected in (
        ("zw", "张伟"),
        ("zhangwei", "张伟"),
        ("5678", "张伟"),
        ("13900009999", "王芳"),
        ("王", "王芳"),
    ):
        response = client.get(url, {"q": q}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert next(t.name for t in response.templates) == "customers/partials/customer_rows.html"
        body = html(response)
        assert "<html" not in body
        assert names(body) == [expected], q
    response = client.get(url, {"q": "nobody"}, HTTP_HX_REQUEST="true")
    assert "customer-empty" in html(response)


def test_filters_narrow_the_list(client, world):
    manager = actor_for("manager_a", "a")
    make_customer(manager, name="刘洋", source_channel="referral")
    login(client, "manager_a")
    url = reverse("customers:customer_list")
    assert names(html(client.get(url, {"source_channel": "referral"}))) == ["刘洋"]
    sales2 = User.objects.get(username="sales_a2")
    assert names(html(client.get(url, {"consultant": sales2.pk}))) == ["王芳"]
    assert names(html(client.get(url, {"lifecycle_stage": "loyal"}))) == []
    assert len(names(html(client.get(url, {"lifecycle_stage": "prospect"})))) == 3
    # A consultant has no consultant filter: they only ever see their own.
    login(client, "sales_a1")
    assert "consultant" not in client.get(url).context["form"].fields


def test_keyset_load_more_without_counting(client, demo, django_assert_max_num_queries):
    actor = actor_for("sales_a1", "a")
    for i in range(30):
        make_customer(actor, name=f"客户{i:02d}")
    login(client, "sales_a1")
    url = reverse("customers:customer_list")
    response = client.get(url)
    assert html(response).count('class="customer-row"') == 25
    cursor = response.context["next_cursor"]
    assert cursor and 'id="customer-load-more"' in html(response)
    with django_assert_max_num_queries(12) as queries:
        more = client.get(url, {"cursor": cursor}, HTTP_HX_REQUEST="true")
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert html(more).count('class="customer-row"') == 5
    assert "customer-load-more" not in html(more)
    assert client.get(url, {"cursor": "%%%"}).status_code == 400


# --- create, duplicates on entry, edit ---------------------------------------------------------


def test_create_saves_and_opens_the_360(client, demo):
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"), {"kind": "person", "name": "陈静", "mobile": "139 1111 2222"}
    )
    customer = Customer.objects.get(name="陈静")
    assert response.status_code == 302 and response["Location"] == reverse(
        "customers:customer_detail", args=[customer.pk]
    )
    assert customer.mobile == "+8613911112222"
    assert customer.consultant.username == "sales_a1"


def test_bad_input_shows_the_error_on_the_field_and_saves_nothing(client, demo):
    login(client, "sales_a1")
    response = client.post(reverse("customers:customer_create"), {"kind": "person", "name": "陈静", "mobile": "12345"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]
    assert 'data-error-for="mobile"' in html(response)
    assert not Customer.objects.filter(name="陈静").exists()


def test_same_mobile_shows_the_existing_customer_and_cannot_be_forced(client, world):
    login(client, "sales_a1")
    url = reverse("customers:customer_create")
    data = {"kind": "person", "name": "张卫", "mobile": "+86 138 1234 5678"}
    response = client.post(url, data)
    body = html(response)
    assert response.status_code == 200
    assert 'id="duplicate-candidates"' in body
    assert reverse("customers:customer_detail", args=[world["own"].pk]) in body
    assert 'data-testid="confirm-new"' not in body
    response = client.post(url, {**data, "confirm_new": "1"})
    assert 'id="duplicate-candidates"' in html(response)
    assert Customer.objects.filter(mobile_last4="5678").count() == 1


def test_colleagues_duplicate_is_named_without_a_link(client, world):
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"), {"kind": "person", "name": "王小芳", "mobile": "13900009999"}
    )
    body = html(response)
    assert 'id="duplicate-candidates"' in body
    assert reverse("customers:customer_detail", args=[world["colleague"].pk]) not in body
    assert "王*" in body and "王芳" not in body


def test_same_name_in_district_can_be_saved_as_new_after_seeing_candidates(client, world):
    login(client, "sales_a1")
    url = reverse("customers:customer_create")
    data = {"kind": "person", "name": "张伟", "district": "浦东新区", "mobile": "13600001234"}
    response = client.post(url, data)
    body = html(response)
    assert 'id="duplicate-candidates"' in body and 'data-testid="confirm-new"' in body
    assert reverse("customers:customer_detail", args=[world["own"].pk]) in body
    assert Customer.objects.filter(name="张伟").count() == 1
    response = client.post(url, {**data, "confirm_new": "1"})
    assert response.status_code == 302
    assert Customer.objects.filter(name="张伟").count() == 2


def test_create_with_first_vehicle_in_one_step(client, demo):
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "张伟", "mobile": "13812345678", "vehicle-vin": "lsja24u62jg269225",
         "vehicle-plate": "沪AD 12345", "vehicle-mileage_km": "1200"},
    )  # fmt: skip
    assert response.status_code == 302
    customer = Customer.objects.get(name="张伟")
    [vehicle] = customer.vehicles.all()
    assert (vehicle.vin, vehicle.plate, vehicle.mileage_km) == ("LSJA24U62JG269225", "沪AD12345", 1200)
    body = html(client.get(response["Location"]))
    assert "沪AD12345" in body
    # Found by the tail of the plate, as a person remembers it.
    rows = html(client.get(reverse("customers:customer_list"), {"q": "12345"}, HTTP_HX_REQUEST="true"))
    assert "张伟" in rows


def test_bad_first_vehicle_saves_neither(client, demo):
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "张伟", "mobile": "13812345678", "vehicle-vin": "LSJA24U62JG269226"},
    )
    assert response.status_code == 200
    [extra] = response.context["extras"]
    assert extra["form"].errors["vin"]
    assert 'data-error-for="vehicle-vin"' in html(response)
    assert not Customer.objects.exists()


def test_bad_mobile_and_bad_vin_show_both_errors_at_once_and_save_nothing(client, demo):
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "张伟", "mobile": "12345", "vehicle-vin": "LSJA24U62JG269226",
         "vehicle-plate": "沪AD12345"},
    )  # fmt: skip
    assert response.status_code == 200
    body = html(response)
    assert 'data-error-for="mobile"' in body and 'data-error-for="vehicle-vin"' in body
    assert response.context["form"].errors["mobile"]
    [extra] = response.context["extras"]
    assert extra["form"].errors["vin"] and "mobile" not in extra["form"].errors
    assert not Customer.objects.exists()


def test_a_field_the_form_cannot_parse_still_shows_the_services_errors(client, demo):
    """Mileage that is not a number fails the form itself; the bad mobile is still reported."""
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "张伟", "mobile": "12345", "vehicle-vin": "LSJA24U62JG269225",
         "vehicle-mileage_km": "lots"},
    )  # fmt: skip
    body = html(response)
    assert 'data-error-for="mobile"' in body and 'data-error-for="vehicle-mileage_km"' in body
    assert 'data-error-for="vehicle-vin"' not in body  # the VIN is good
    assert not Customer.objects.exists()


def test_duplicate_customer_with_a_first_vehicle_saves_neither(client, world):
    login(client, "sales_a1")
    response = client.post(
        reverse("customers:customer_create"),
        {"kind": "person", "name": "张卫", "mobile": "13812345678", "vehicle-vin": "LSJA24U62JG269225"},
    )
    assert 'id="duplicate-candidates"' in html(response)
    assert Customer.objects.filter(mobile_last4="5678").count() == 1
    from autocrm.vehicles.models import Vehicle

    assert not Vehicle.objects.exists()


def test_edit_keeps_protected_values_left_empty_and_never_shows_them(client, world):
    customer = world["own"]
    login(client, "sales_a1")
    url = reverse("customers:customer_edit", args=[customer.pk])
    body = html(client.get(url))
    assert "13812345678" not in body and "11010519491231002X" not in body
    assert "138****5678" in body  # as the placeholder
    response = client.post(url, {"kind": "person", "name": "张伟伟", "mobile": "", "id_number": "", "address": ""})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "张伟伟"
    assert customer.mobile == "+8613812345678" and customer.id_number == "11010519491231002X"


def test_edit_to_a_mobile_another_customer_holds_is_refused(client, world):
    login(client, "manager_a")
    url = reverse("customers:customer_edit", args=[world["own"].pk])
    response = client.post(url, {"kind": "person", "name": "张伟", "mobile": "13900009999"})
    assert response.status_code == 200
    assert response.context["form"].errors["mobile"]
    world["own"].refresh_from_db()
    assert world["own"].mobile == "+8613812345678"


# --- the 360 page ----------------------------------------------------------------------------


def test_360_masks_and_reveal_is_logged(client, world):
    customer = world["own"]
    login(client, "sales_a1")
    body = html(client.get(reverse("customers:customer_detail", args=[customer.pk])))
    assert "138****5678" in body and "*****************X" in body
    assert "13812345678" not in body and "11010519491231002X" not in body and "张杨路1200号" not in body
    assert 'data-testid="reveal-mobile"' in body and 'data-testid="reveal-id_number"' in body
    response = client.post(reverse("customers:customer_reveal", args=[customer.pk]), {"field": "mobile"})
    assert response.status_code == 200 and "138 1234 5678" in html(response)
    event = AuditEvent.objects.get(action="pii.reveal")
    assert event.object_id == str(customer.pk) and event.extra["field"] == "mobile"
    assert event.actor_id == User.objects.get(username="sales_a1").pk


def test_marketing_sees_the_360_without_reveal_and_without_the_id_number(client, world):
    customer = world["own"]
    login(client, "marketing_a1")
    response = client.get(reverse("customers:customer_detail", args=[customer.pk]))
    body = html(response)
    assert response.status_code == 200
    assert "138****5678" in body
    assert "110105" not in body and "002X" not in body and 'id="profile-id_number"' not in body
    assert 'id="profile-address"' not in body
    assert 'data-testid="reveal-' not in body
    assert 'data-testid="customer-edit"' not in body
    assert client.post(reverse("customers:customer_reveal", args=[customer.pk]), {"field": "mobile"}).status_code == 403
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()
    assert AuditEvent.objects.filter(action="authz.denied", object_id=str(customer.pk)).exists()
    assert client.get(reverse("customers:customer_edit", args=[customer.pk])).status_code == 403


def test_reveal_of_an_unprotected_field_is_400(client, world):
    login(client, "sales_a1")
    response = client.post(reverse("customers:customer_reveal", args=[world["own"].pk]), {"field": "name"})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()


def lazy_part(client: Client, page: str, part: str) -> str:
    """The 360 page's ``part`` as htmx loads it after the first paint: the URL the page names."""
    match = re.search(rf'data-lazy-part="{part}" hx-get="([^"]+)" hx-trigger="revealed"', page)
    assert match, f"no lazy {part} on the page"
    assert f'href="{match.group(1)}"' in page  # the no-JS fallback link
    response = client.get(match.group(1), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return html(response)


def test_placeholders_say_not_computed_yet(client, world):
    login(client, "sales_a1")
    page = html(client.get(reverse("customers:customer_detail", args=[world["own"].pk])))
    assert "data-slot=" not in page  # loaded after the first paint
    body = lazy_part(client, page, "insights")
    with translation.override("zh-hans"):
        text = re.escape(translation.gettext("Not computed yet"))
    for slot in ("segment", "value", "churn_risk", "next_best_action"):
        assert re.search(rf'data-slot="{slot}">\s*{text}', body), slot


def test_tags_added_and_removed_from_the_360(client, world):
    customer = world["own"]
    login(client, "sales_a1")
    url = reverse("customers:customer_tags", args=[customer.pk])
    assert client.post(url, {"add": "高尔夫"}).status_code == 302
    assert [t.name for t in customer.tags.all()] == ["高尔夫"]
    assert "高尔夫" in html(client.get(reverse("customers:customer_detail", args=[customer.pk])))
    client.post(url, {"remove": "高尔夫"})
    assert not customer.tags.exists()


def test_consent_granted_and_withdrawn_through_the_grid(client, world):
    customer = world["own"]
    login(client, "sales_a1")
    url = reverse("customers:customer_consent", args=[customer.pk])
    client.post(url, {"purpose": "marketing", "channel": "wechat", "action": "grant"})
    assert consent_allows(customer=customer, purpose="marketing", channel="wechat")
    body = lazy_part(client, html(client.get(reverse("customers:customer_detail", args=[customer.pk]))), "consent")
    assert 'data-consent="marketing-wechat" data-state="granted"' in body
    assert 'data-testid="withdraw-marketing-wechat"' in body
    response = client.post(url, {"purpose": "marketing", "channel": "wechat", "action": "withdraw"})
    assert response.status_code == 302
    assert not consent_allows(customer=customer, purpose="marketing", channel="wechat")
    assert Consent.objects.get(customer=customer).withdrawn_at is not None
    body = lazy_part(client, html(client.get(reverse("customers:customer_detail", args=[customer.pk]))), "consent")
    assert 'data-consent="marketing-wechat" data-state="withdrawn"' in body
    assert client.post(url, {"purpose": "x", "channel": "wechat", "action": "grant"}).status_code == 400


def test_marketing_cannot_change_consent(client, world):
    login(client, "marketing_a1")
    url = reverse("customers:customer_consent", args=[world["own"].pk])
    assert client.post(url, {"purpose": "marketing", "channel": "sms", "action": "grant"}).status_code == 403
    assert not Consent.objects.exists()


def _rich_customer(n_vehicles: int, n_events: int, n_household: int = 0) -> Customer:
    """A customer with ``n_vehicles`` cars, ``n_events`` notes, ``n_household`` family members,
    a consent per purpose and channel for the larger ones, and tags."""
    from autocrm.core.identifiers import vin_with_check_digit
    from autocrm.customers.choices import Channel, ConsentPurpose
    from autocrm.customers.services import household_link
    from autocrm.vehicles.services import vehicle_create

    actor = actor_for("sales_a1", "a")
    customer = make_customer(actor, name=f"富客{n_vehicles}", mobile=f"1350000{n_vehicles:04d}")
    for i in range(n_vehicles):
        vin = vin_with_check_digit(f"LSJA24U6JG{n_vehicles:02d}{i:04d}")
        vehicle_create(actor=actor, data={"vin": vin, "plate": f"沪A{n_vehicles}{i:04d}"}, customer=customer)
    for i in range(n_events):
        timeline_record(customer=customer, kind="note", summary=f"事件 {i}")
    for i in range(n_household):
        member = make_customer(actor, name=f"家人{n_vehicles}{i}", mobile=f"1360{n_vehicles:03d}{i:04d}")
        household_link(actor=actor, customer=customer, member=member, relation="child")
    pairs = [(p, c) for p in ConsentPurpose.values for c in Channel.values] if n_vehicles > 1 else [("service", "sms")]
    for purpose, channel in pairs:
        consent_record(actor=actor, customer=customer, purpose=purpose, channel=channel)
    customer_tag(actor=actor, customer=customer, add=["高尔夫", "自驾游"] + [f"标签{i}" for i in range(n_vehicles)])
    return customer


# Queries of a warm 360 page as a consultant, whatever the customer holds: the request path's
# (session, user, memberships, store ids, the session's save ×3 on SQLite's savepoints), then
# customer, tags, household, timeline, vehicles and the shell's stores. A lazy part is one
# request of its own: the request path's, the customer and its own read.
PAGE_360_QUERIES = 13
PART_QUERIES = 9


def test_360_query_count_is_bounded(client, demo, django_assert_max_num_queries):
    small = _rich_customer(1, 2)
    big = _rich_customer(8, 60, n_household=4)
    login(client, "sales_a1")
    client.get(reverse("customers:customer_detail", args=[small.pk]))  # warm caches (content types, session)
    with django_assert_max_num_queries(PAGE_360_QUERIES) as small_queries:
        client.get(reverse("customers:customer_detail", args=[small.pk]))
    with django_assert_max_num_queries(PAGE_360_QUERIES) as big_queries:
        response = client.get(reverse("customers:customer_detail", args=[big.pk]))
    assert len(big_queries.captured_queries) == len(small_queries.captured_queries)
    body = html(response)
    # The first paint: the name, the mobile masked for a consultant, every vehicle, the household.
    assert '<span id="customer-name">富客8</span>' in body
    assert "135****0008" in body and "13500000008" not in body
    assert body.count('class="list-group-item customer-vehicle"') == 8
    assert body.count("家人8") == 4
    assert body.count('class="list-group-item timeline-event"') == 10
    assert 'id="timeline-load-more"' in body
    small_page = html(client.get(reverse("customers:customer_detail", args=[small.pk])))
    for part in ("consent", "insights"):
        with django_assert_max_num_queries(PART_QUERIES) as small_part:
            lazy_part(client, small_page, part)
        with django_assert_max_num_queries(PART_QUERIES) as big_part:
            fragment = lazy_part(client, body, part)
        assert len(big_part.captured_queries) == len(small_part.captured_queries), part
        assert "<html" not in fragment  # the fragment alone, not the shell


def test_the_consent_part_shows_every_consent_of_a_large_customer(client, demo):
    big = _rich_customer(3, 0)
    login(client, "sales_a1")
    page = html(client.get(reverse("customers:customer_detail", args=[big.pk])))
    assert "data-consent=" not in page  # not in the first paint
    grid = lazy_part(client, page, "consent")
    assert grid.count('data-state="granted"') == 12


def test_lazy_parts_are_scoped_as_the_page(client, world):
    """A part's URL answers exactly whom the page answers: another store's customer (or a
    colleague's, for a consultant) is the same 404 as the page's, never an empty fragment."""
    login(client, "sales_a1")
    for name in ("customers:customer_consent_part", "customers:customer_insights_part", "customers:customer_timeline"):
        assert client.get(reverse(name, args=[world["own"].pk]), HTTP_HX_REQUEST="true").status_code == 200
        for other in (world["other_store"], world["colleague"]):
            for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
                assert client.get(reverse(name, args=[other.pk]), **headers).status_code == 404, (name, other)
                assert client.get(reverse("customers:customer_detail", args=[other.pk])).status_code == 404
        assert client.get(reverse(name, args=[MISSING_PK]), HTTP_HX_REQUEST="true").status_code == 404
    client.logout()
    response = client.get(reverse("customers:customer_consent_part", args=[world["own"].pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_lazy_parts_work_without_javascript(client, world):
    """Without htmx the placeholder's link opens the part as a page of its own, with the shell
    and a way back to the customer; with htmx the same URL answers the fragment alone."""
    customer = world["own"]
    login(client, "sales_a1")
    url = reverse("customers:customer_consent_part", args=[customer.pk])
    page = client.get(url)
    body = html(page)
    assert page.status_code == 200 and "<html" in body and 'data-consent="service-sms"' in body
    assert f'href="{reverse("customers:customer_detail", args=[customer.pk])}" data-testid="back-to-customer"' in body
    assert "HX-Request" in page["Vary"]
    fragment = client.get(url, HTTP_HX_REQUEST="true")
    assert "<html" not in html(fragment) and 'data-consent="service-sms"' in html(fragment)
    assert "HX-Request" in fragment["Vary"]


def test_timeline_load_more(client, demo):
    customer = _rich_customer(0, 40)
    login(client, "sales_a1")
    response = client.get(reverse("customers:customer_detail", args=[customer.pk]))
    more_url = response.context["timeline_more_url"]
    assert f'href="{more_url}"' in html(response)  # a link: it works without JavaScript too
    more = html(client.get(more_url, HTTP_HX_REQUEST="true"))
    # 40 notes + "created" + one consent: 10 on the page, 30 in the next, the rest after.
    total = customer.timeline.count()
    assert more.count('class="list-group-item timeline-event"') == 30
    match = re.search(r'hx-get="([^"]+)"', more)
    assert match
    rest = html(client.get(match.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true"))
    assert rest.count('class="list-group-item timeline-event"') == total - 40
    assert "timeline-load-more" not in rest
    without_js = client.get(more_url)
    assert "<html" in html(without_js) and html(without_js).count('class="list-group-item timeline-event"') == 30


def test_manager_reassigns_the_consultant_from_the_edit_page(client, world):
    customer = world["own"]
    sales2 = User.objects.get(username="sales_a2")
    login(client, "sales_a1")
    assert "consultant" not in client.get(reverse("customers:customer_edit", args=[customer.pk])).context["form"].fields
    login(client, "manager_a")
    url = reverse("customers:customer_edit", args=[customer.pk])
    response = client.post(url, {"kind": "person", "name": "张伟", "consultant": sales2.pk})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.consultant_id == sales2.pk
    assert customer.timeline.filter(kind="customer.assigned").exists()
    # Now sales_a1 no longer sees them.
    login(client, "sales_a1")
    assert client.get(reverse("customers:customer_detail", args=[customer.pk])).status_code == 404


def test_list_links_to_an_export_of_the_same_filter(client, demo):
    make_customer(actor_for("manager_a", "a"), name="导出甲")
    login(client, "manager_a")
    body = html(client.get(reverse("customers:customer_list"), {"q": "导出"}))
    assert "imports/export/customers/?q=" in body
    response = client.get(reverse("imports:export", args=["customers"]), {"q": "导出", "format": "csv"})
    assert response.status_code == 200
    assert "导出甲" in b"".join(response.streaming_content).decode("utf-8-sig")
    login(client, "sales_a1")
    assert "customer-export" not in html(client.get(reverse("customers:customer_list")))


def test_a_missing_name_is_said_once(client, demo):
    login(client, "sales_a1")
    response = client.post(reverse("customers:customer_create"), {"kind": "person", "name": "", "mobile": "12345"})
    form = response.context["form"]
    assert len(form.errors["name"]) == 1 and form.errors["mobile"]
