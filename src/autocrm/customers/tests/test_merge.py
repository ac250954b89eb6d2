"""Merging two customer records moves everything to the survivor; undo puts it all back."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.audit.models import AuditEvent
from autocrm.core.errors import Conflict, PermissionDenied, ValidationError
from autocrm.customers.merging import _relations, customer_merge, customer_merge_undo, merge_defaults
from autocrm.customers.models import Customer, DuplicatePair, HouseholdMember
from autocrm.customers.selectors import customer_list
from autocrm.customers.services import consent_record, customer_tag, household_link, timeline_record
from autocrm.vehicles.models import Ownership, Vehicle
from autocrm.vehicles.services import vehicle_create

from .factories import actor_for, make_customer
from .test_api import bearer
from .test_dedup import urlpatterns  # noqa: F401  (the same URL list)

pytestmark = pytest.mark.urls(__name__)

MERGE_EVENTS = ("customer.merged", "customer.merge_undone")


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


@pytest.fixture
def two(manager):
    """Two records of one person with history on both: vehicles (with ownership and timeline),
    consents, one household (a unique link that must be dropped), and overlapping tags."""
    sales = actor_for("sales_a1")
    survivor = make_customer(sales, name="张伟", mobile="13812345678", district="浦东新区", email="")
    merged = make_customer(sales, name="张玮", mobile="13812340000", district="浦东新区", email="zw@example.com",
                           birthday="1980-02-03", wechat_id="zhangwei80")  # fmt: skip
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=merged)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "沪B12345"}, customer=survivor)
    consent_record(actor=manager, customer=merged, purpose="marketing", channel="sms", source="form")
    consent_record(actor=manager, customer=survivor, purpose="service", channel="wechat", source="app")
    household_link(actor=manager, customer=survivor, member=merged, relation="spouse")
    timeline_record(customer=merged, kind="visit", summary="Showroom visit")
    customer_tag(actor=manager, customer=survivor, add=["golf"])
    customer_tag(actor=manager, customer=merged, add=["golf", "vip"])
    DuplicatePair.objects.create(store_id=survivor.store_id, customer_a=survivor, customer_b=merged, score=0.9)
    return survivor, merged


def snapshot(*customers):
    """Every row of every app pointing at these customers, with all its values, plus the
    customers' own fields (timestamps of the customers and merge bookkeeping left out)."""
    ids = [c.pk for c in customers]
    rows = set()
    for fk in _relations():
        for values in fk.model._base_manager.filter(**{f"{fk.attname}__in": ids}).values():
            if fk.model._meta.label_lower == "customers.timelineevent" and values["kind"] in MERGE_EVENTS:
                continue
            rows.add((fk.model._meta.label_lower, tuple(sorted((k, str(v)) for k, v in values.items()))))
    people = {}
    for c in Customer.objects.filter(pk__in=ids):
        people[c.pk] = {
            f.attname: getattr(c, f.attname) for f in Customer._meta.concrete_fields if f.name not in ("updated_at",)
        }
    return rows, people


def test_merge_moves_every_related_record_and_undo_restores_them_exactly(manager, two):
    survivor, merged = two
    before = snapshot(survivor, merged)

    merge = customer_merge(actor=manager, survivor=survivor, merged=merged, choices={"name": "survivor"})

    survivor.refresh_from_db()
    merged.refresh_from_db()
    # fields: the survivor's empty email and birthday take the merged record's values
    assert (survivor.name, survivor.email, str(survivor.birthday)) == ("张伟", "zw@example.com", "1980-02-03")
    assert survivor.wechat_id == "zhangwei80"
    assert merge.choices["email"] == "merged" and merge.choices["name"] == "survivor"
    # related records from every app
    assert set(Vehicle.objects.filter(customer=survivor).values_list("vin", flat=True)) == {
        "LSJA24U62JG269225", "1M8GDM9AXKP042788",
    }  # fmt: skip
    assert not Vehicle.objects.filter(customer=merged).exists()
    assert Ownership.objects.filter(customer=survivor).count() == 2
    assert {(c.purpose, c.channel) for c in survivor.consents.all()} == {("marketing", "sms"), ("service", "wechat")}
    assert survivor.timeline.filter(kind="visit").exists() and not merged.timeline.exists()
    assert survivor.timeline.filter(kind="customer.merged").exists()
    assert sorted(t.name for t in survivor.tags.all()) == ["golf", "vip"]
    # the household link of the merged record would duplicate the survivor's: dropped, recorded
    assert HouseholdMember.objects.filter(customer=survivor).count() == 1
    assert not HouseholdMember.objects.filter(customer=merged).exists()
    assert "vehicles.vehicle.customer" in merge.moved and "customers.consent.customer" in merge.moved
    # the merged record is hidden, the pair merged, the merge audited
    assert merged.merged_into_id == survivor.pk
    assert merged not in customer_list(actor=manager)
    assert DuplicatePair.objects.get().status == "merged"
    event = AuditEvent.objects.get(action="customer.merge")
    assert event.object_id == str(survivor.pk) and event.extra["merged"] == merged.pk

    customer_merge_undo(actor=manager, merge=merge)

    assert snapshot(survivor, merged) == before
    merge.refresh_from_db()
    assert merge.undone_at is not None
    assert DuplicatePair.objects.get().status == "open"
    assert AuditEvent.objects.filter(action="customer.merge_undo").exists()
    assert merged in customer_list(actor=manager)
    with pytest.raises(Conflict):
        customer_merge_undo(actor=manager, merge=merge)


def test_undo_keeps_edits_made_after_the_merge(manager, two):
    survivor, merged = two
    merge = customer_merge(actor=manager, survivor=survivor, merged=merged, choices={"name": "merged"})
    survivor.refresh_from_db()
    assert survivor.name == "张玮" and survivor.name_pinyin == "zhangwei"
    survivor.district = "黄浦区"
    survivor.save()
    customer_merge_undo(actor=manager, merge=merge)
    survivor.refresh_from_db()
    assert survivor.name == "张伟" and survivor.district == "黄浦区"


def test_undo_refused_when_a_later_merge_involves_them(manager, two):
    survivor, merged = two
    third = make_customer(manager, name="张卫")
    first = customer_merge(actor=manager, survivor=survivor, merged=merged)
    second = customer_merge(actor=manager, survivor=third, merged=Customer.objects.get(pk=survivor.pk))
    with pytest.raises(Conflict) as exc:
        customer_merge_undo(actor=manager, merge=first)
    assert exc.value.extra["later_merge"] == second.pk
    customer_merge_undo(actor=manager, merge=second)
    customer_merge_undo(actor=manager, merge=first)
    assert Vehicle.objects.filter(customer=merged).count() == 1


def test_merge_rules(manager, two):
    survivor, merged = two
    with pytest.raises(PermissionDenied):
        customer_merge(actor=actor_for("sales_a1"), survivor=survivor, merged=merged)
    with pytest.raises(ValidationError):
        customer_merge(actor=manager, survivor=survivor, merged=survivor)
    with pytest.raises(ValidationError) as exc:
        customer_merge(actor=manager, survivor=survivor, merged=merged, choices={"store": "merged", "name": "x"})
    assert "choices" in exc.value.fields
    assert not Customer.objects.filter(merged_into__isnull=False).exists()
    customer_merge(actor=manager, survivor=survivor, merged=merged)
    with pytest.raises(Conflict):
        customer_merge(actor=manager, survivor=survivor, merged=merged)


def touched(customer):
    """The record changed most recently (while the other one is the newer record): neither "the
    newer record" nor "the older record" alone would then pick the better value."""
    Customer.objects.filter(pk=customer.pk).update(updated_at=timezone.now() + dt.timedelta(days=1))
    customer.refresh_from_db()
    return customer


def test_defaults_prefer_the_only_value(manager):
    old = make_customer(manager, name="李娜", district="徐汇区")
    new = make_customer(manager, name="李娜", occupation="教师")
    choices = merge_defaults(old, new)
    assert choices["occupation"] == "merged"  # only the merged record has one
    assert choices["district"] == "survivor"
    assert merge_defaults(new, old)["district"] == "merged"


def test_defaults_prefer_the_older_record_when_both_values_are_good(manager):
    old = make_customer(manager, name="李娜", email="old@example.com")
    new = make_customer(manager, name="李娜", email="new@example.com")
    touched(new)
    assert merge_defaults(old, new)["email"] == "survivor"  # not the more recently changed record
    assert merge_defaults(new, old)["email"] == "merged"  # whichever of the two survives


def test_defaults_prefer_a_name_without_a_stray_space(manager):
    old = touched(make_customer(manager, name="李 娜"))
    new = make_customer(manager, name="李娜")
    assert merge_defaults(old, new)["name"] == "merged"
    assert merge_defaults(new, old)["name"] == "survivor"
    spaced = make_customer(manager, name="Tom Li")  # a space between Latin words is not stray
    doubled = make_customer(manager, name="Tom  Li")
    assert merge_defaults(doubled, spaced)["name"] == "merged"


def test_defaults_prefer_a_dms_external_id_to_a_demo_one(manager):
    old = touched(make_customer(manager, name="钱敏", external_id="demo:000123"))
    new = make_customer(manager, name="钱敏", external_id="DMS-42")
    assert merge_defaults(old, new)["external_id"] == "merged"


def test_defaults_prefer_a_valid_mobile(manager):
    old = make_customer(manager, name="孙丽")
    new = make_customer(manager, name="孙丽", mobile="13912345678")
    Customer.objects.filter(pk=old.pk).update(mobile="1391234")  # written around the services
    touched(old)
    assert merge_defaults(old, new)["mobile"] == "merged"
    assert merge_defaults(new, old)["mobile"] == "survivor"


def test_defaults_prefer_the_more_complete_value(manager):
    old = touched(make_customer(manager, name="周敏", address="张杨路1200号"))
    new = make_customer(manager, name="周敏", address="浦东新区张杨路1200号8栋")
    assert merge_defaults(old, new)["address"] == "merged"  # although the other record is older
    assert merge_defaults(new, old)["address"] == "survivor"


def test_merge_follows_the_defaults(manager):
    old = touched(make_customer(manager, name="吴 刚", external_id="demo:7", address="张杨路1号"))
    new = make_customer(manager, name="吴刚", external_id="DMS-7", address="张杨路1号8栋")
    customer_merge(actor=manager, survivor=old, merged=new)
    old.refresh_from_db()
    assert (old.name, old.external_id, old.address) == ("吴刚", "DMS-7", "张杨路1号8栋")


def test_external_id_moves_with_the_merge_and_comes_back(manager):
    a = make_customer(manager, name="钱敏")
    b = make_customer(manager, name="钱敏", external_id="DMS-42")
    merge = customer_merge(actor=manager, survivor=a, merged=b, choices={"external_id": "merged"})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.external_id, b.external_id) == ("DMS-42", "")
    customer_merge_undo(actor=manager, merge=merge)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.external_id, b.external_id) == ("", "DMS-42")


# --- API and pages ---------------------------------------------------------------------------------


@pytest.fixture
def api(demo):
    return Client()


def test_api_merge_and_undo_with_scope(api, manager, two):
    survivor, merged = two
    # a consultant sees the pairs among their own customers only, not a colleague's
    assert api.get("/api/v1/customers/duplicates", **bearer("sales_a2")).json()["items"] == []
    own = api.get("/api/v1/customers/duplicates", **bearer("sales_a1")).json()["items"][0]
    assert own["customer_a"]["name"] == "张伟" and own["customer_a"]["mobile"] == "138****5678"
    url = f"/api/v1/customers/{survivor.pk}/merge"
    body = {"other": merged.pk, "choices": {"email": "merged"}}
    assert api.post(url, body, content_type="application/json", **bearer("sales_a1")).status_code == 403
    assert api.post(url, body, content_type="application/json", **bearer("manager_b")).status_code == 404
    other_store = make_customer(actor_for("manager_b"), name="张伟")
    r = api.post(url, {"other": other_store.pk}, content_type="application/json", **bearer("manager_a"))
    assert r.status_code == 404
    r = api.post(url, body, content_type="application/json", **bearer("manager_a"))
    assert r.status_code == 201, r.content
    merge = r.json()
    assert merge["survivor"] == survivor.pk and merge["merged"] == merged.pk
    assert merge["moved"]["vehicles.vehicle.customer"]
    assert api.get(f"/api/v1/customers/{merged.pk}", **bearer("manager_a")).status_code == 200
    assert api.post(f"/api/v1/customers/merges/{merge['id']}/undo", **bearer("sales_a1")).status_code == 404
    r = api.post(f"/api/v1/customers/merges/{merge['id']}/undo", **bearer("manager_a"))
    assert r.status_code == 200 and r.json()["undone_at"]
    r = api.post(f"/api/v1/customers/merges/{merge['id']}/undo", **bearer("manager_a"))
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_review_queue_pages(manager, two):
    survivor, merged = two
    client = Client()
    client.login(username="manager_a", password="autocrm-demo")
    pair = DuplicatePair.objects.get()
    r = client.get("/duplicates/")
    assert r.status_code == 200 and f'data-pair="{pair.pk}"' in r.content.decode()
    r = client.get(f"/duplicates/{pair.pk}/")
    page = r.content.decode()
    assert r.status_code == 200 and 'id="merge-button"' in page
    # the merged record's email is the default (the survivor has none); pick its name by hand
    assert f'name="choice_email" value="{merged.pk}" checked' in page
    r = client.post(f"/duplicates/{pair.pk}/", {"survivor": survivor.pk, "choice_name": merged.pk})
    assert r.status_code == 302
    survivor.refresh_from_db()
    assert survivor.name == "张玮" and survivor.email == "zw@example.com"
    merge_url = r["Location"]
    assert 'id="undo-button"' in client.get(merge_url).content.decode()
    assert client.post(merge_url + "undo/").status_code == 302
    survivor.refresh_from_db()
    assert survivor.name == "张伟"

    sales = Client()
    sales.login(username="sales_a1", password="autocrm-demo")
    assert sales.post(f"/duplicates/{pair.pk}/dismiss/").status_code == 403
    colleague = Client()
    colleague.login(username="sales_a2", password="autocrm-demo")
    assert f'data-pair="{pair.pk}"' not in colleague.get("/duplicates/").content.decode()
    assert colleague.get(f"/duplicates/{pair.pk}/").status_code == 404  # like a missing pair
    other = Client()
    other.login(username="manager_b", password="autocrm-demo")
    assert other.get(f"/duplicates/{pair.pk}/").status_code == 404
    assert client.post(f"/duplicates/{pair.pk}/dismiss/").status_code == 302
    assert DuplicatePair.objects.get().status == "dismissed"
