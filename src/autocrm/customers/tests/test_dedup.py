"""The batch duplicate finder and the review queue (issue 4 item 7)."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import include, path

from autocrm.audit.models import AuditEvent
from autocrm.config.urls import urlpatterns as base_urls
from autocrm.core.errors import PermissionDenied
from autocrm.customers.dedup import Person, duplicates_find, score_pair
from autocrm.customers.merging import duplicate_dismiss
from autocrm.customers.models import Customer, DuplicatePair
from autocrm.vehicles.services import vehicle_create

from .factories import actor_for, make_customer
from .test_api import bearer

# The project's URLs, with the duplicates pages mounted if urls.py does not mount them yet.
urlpatterns = [*base_urls]
if not any(getattr(p, "namespace", None) == "duplicates" for p in base_urls):
    urlpatterns.append(path("duplicates/", include("autocrm.customers.urls_duplicates")))
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def pairs(store_id=None):
    qs = DuplicatePair.objects.all() if store_id is None else DuplicatePair.objects.filter(store_id=store_id)
    return {
        frozenset(Customer.objects.get(pk=pk).name for pk in (p.customer_a_id, p.customer_b_id)): p
        for p in qs.order_by("id")
    }


def same_mobile_copy(original, **changes):
    """A second record of the same person, as an import would bring it (bypassing the entry check)."""
    copy = make_customer(actor_for("manager_a"), **changes)
    copy.mobile = original.mobile
    copy.save()
    return copy


def test_finder_catches_same_mobile_typo_name_and_swapped_formats(manager):
    zhang = make_customer(manager, name="张伟", mobile="13812345678", district="浦东新区")
    typo = same_mobile_copy(zhang, name="张玮", district="浦东新区")  # homophone typo, same mobile
    make_customer(manager, name="李 娜", mobile="+86 139-0000-1111", district="徐汇区", birthday="1985-03-02")
    make_customer(manager, name="李娜", mobile="13900002222", district="徐汇区", birthday="1985-03-02")
    make_customer(manager, name="王晓明", district="静安区", birthday="1979-11-20", community="阳光花园")
    make_customer(manager, name="王小明", district="静安区", birthday="1979-11-20")
    make_customer(manager, name="Tom Li", email="tom.li@example.com")
    make_customer(manager, name="Li Tom", email="Tom.Li@example.com")

    result = duplicates_find(actor=manager)

    found = pairs()
    assert set(found) == {
        frozenset({"张伟", "张玮"}),
        frozenset({"李 娜", "李娜"}),
        frozenset({"王晓明", "王小明"}),
        frozenset({"Tom Li", "Li Tom"}),
    }
    assert result.pairs == 4 and result.created == 4
    pair = found[frozenset({"张伟", "张玮"})]
    assert (pair.customer_a_id, pair.customer_b_id) == (zhang.pk, typo.pk)
    assert pair.status == "open" and 0.9 < pair.score <= 1
    assert pair.reasons[0]["code"] == "same_mobile"
    assert {r["code"] for r in found[frozenset({"王晓明", "王小明"})].reasons} >= {"same_pinyin", "same_birthday"}
    assert AuditEvent.objects.filter(action="customer.duplicates_found").exists()


def test_people_sharing_a_surname_or_a_common_name_are_not_paired(manager):
    make_customer(manager, name="张伟", district="浦东新区", birthday="1980-01-01", gender="male")
    make_customer(manager, name="张芳", district="浦东新区", birthday="1980-01-01", gender="female")
    make_customer(manager, name="张伟", district="浦东新区", birthday="1991-06-15", gender="male")
    make_customer(manager, name="张伟", district="黄浦区", birthday="1980-01-01")
    make_customer(manager, name="张卫国", district="浦东新区", birthday="1966-05-05")
    # same name, birthday and district, but two different valid ID numbers: two people
    make_customer(manager, name="刘阳", district="闵行区", id_number="11010519491231002X")
    make_customer(manager, name="刘阳", district="闵行区", id_number="110105194912310046")
    duplicates_find(actor=manager)
    assert not DuplicatePair.objects.exists()


def test_shared_plate_pairs_records_and_dismissed_stays_dismissed(manager):
    a = make_customer(manager, name="陈静", district="闵行区")
    b = make_customer(manager, name="陈静怡", district="闵行区")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=a)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "沪A D12345"}, customer=b)
    duplicates_find(actor=manager)
    pair = DuplicatePair.objects.get()
    assert "same_plate" in {r["code"] for r in pair.reasons}

    duplicate_dismiss(actor=manager, pair=pair)
    result = duplicates_find(actor=manager)
    pair.refresh_from_db()
    assert pair.status == "dismissed" and result.created == 0 and DuplicatePair.objects.count() == 1


def test_merged_customers_and_other_stores_are_left_out(manager, demo):
    original = make_customer(manager, name="赵磊", mobile="13700001111")
    copy = same_mobile_copy(original, name="赵垒")
    other_store = actor_for("manager_b")
    make_customer(other_store, name="赵磊", mobile="13700001111")
    Customer.objects.filter(pk=copy.pk).update(merged_into=original)
    duplicates_find(actor=manager)
    duplicates_find(actor=other_store)
    assert not DuplicatePair.objects.exists()


def test_only_managers_run_the_finder(manager):
    with pytest.raises(PermissionDenied):
        duplicates_find(actor=actor_for("sales_a1"))


def test_score_is_a_probability_with_reasons():
    row = Person(1, "张伟", "person", "浦东新区", "上海", "", dt.date(1980, 1, 1), "male", "m1", "", "", "", "", "", "")
    other = Person(
        2, "李娜", "person", "黄浦区", "上海", "", dt.date(1990, 1, 1), "female", "m1", "", "", "", "", "", ""
    )
    score, reasons = score_pair(row, other)
    assert 0 <= score < 0.1  # a shared phone alone (a spouse's mobile) is not the same person
    codes = [r["code"] for r in reasons]
    assert codes[0] == "same_mobile" and "different_name" in codes and "other_gender" in codes


# --- API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(demo):
    return Client()


def test_api_find_list_and_dismiss(api, manager):
    original = make_customer(manager, name="孙丽", mobile="13600001234")
    same_mobile_copy(original, name="孙莉")
    h = bearer("manager_a")
    r = api.post("/api/v1/customers/duplicates/find", {}, content_type="application/json", **h)
    assert r.status_code == 200, r.content
    assert r.json()["pairs"] == 1
    body = api.get("/api/v1/customers/duplicates", **h).json()
    (item,) = body["items"]
    assert body["next_cursor"] is None
    assert {item["customer_a"]["name"], item["customer_b"]["name"]} == {"孙丽", "孙莉"}
    assert item["customer_a"]["mobile"] == "136****1234"
    assert item["reasons"][0]["code"] == "same_mobile" and item["reasons"][0]["text"]

    # unassigned customers are not a consultant's: their pair is invisible to one, like a missing one
    assert api.post(f"/api/v1/customers/duplicates/{item['id']}/dismiss", **bearer("sales_a1")).status_code == 404
    assert api.post(f"/api/v1/customers/duplicates/{item['id']}/dismiss", **bearer("manager_b")).status_code == 404
    r = api.post(f"/api/v1/customers/duplicates/{item['id']}/dismiss", **h)
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert api.get("/api/v1/customers/duplicates", **h).json()["items"] == []
    dismissed = api.get("/api/v1/customers/duplicates", {"status": "dismissed"}, **h).json()["items"]
    assert [p["id"] for p in dismissed] == [item["id"]]


def test_api_find_is_for_managers_and_pages_are_keyset(api, manager):
    r = api.post("/api/v1/customers/duplicates/find", content_type="application/json", **bearer("sales_a1"))
    assert r.status_code == 403
    for i in range(3):
        original = make_customer(manager, name="周杰", mobile=f"1350000{i:04d}", district=f"区{i}")
        same_mobile_copy(original, name="周洁", district=f"区{i}")
    duplicates_find(actor=manager)
    h = bearer("manager_a")
    first = api.get("/api/v1/customers/duplicates", {"limit": 2}, **h).json()
    second = api.get("/api/v1/customers/duplicates", {"limit": 2, "cursor": first["next_cursor"]}, **h).json()
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3 and second["next_cursor"] is None


def test_worker_task_rechecks_the_user_in_the_store(manager, demo):
    from huey.exceptions import TaskException

    from autocrm.customers.tasks import duplicates_find_task

    original = make_customer(manager, name="钱伟", mobile="13300001234")
    same_mobile_copy(original, name="钱玮")
    sales = actor_for("sales_a1")
    with pytest.raises(TaskException, match="PermissionDenied"):
        duplicates_find_task(manager.store_id, sales.user_id)()  # immediate mode: runs here
    assert not DuplicatePair.objects.exists()
    result = duplicates_find_task(manager.store_id, manager.user_id)()
    assert result["pairs"] == 1 and DuplicatePair.objects.count() == 1
    assert duplicates_find_task(manager.store_id)()["created"] == 0


class _QueuedTask:
    """Stands in for the huey task when a worker runs: records what was queued."""

    class huey:  # mirrors the task's attribute
        immediate = False

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, *args):
        self.calls.append(args)


def test_the_service_decides_run_now_or_queue_for_page_and_api(manager, demo, client, monkeypatch):
    from django.contrib.messages import get_messages
    from django.urls import reverse

    from autocrm.accounts.models import User
    from autocrm.customers import tasks

    queued = _QueuedTask()
    monkeypatch.setattr(tasks, "duplicates_find_task", queued)
    # Refused before anything is queued: a role without the right, a threshold out of range.
    response = Client().post("/api/v1/customers/duplicates/find", {}, content_type="application/json",
                             **bearer("sales_a1"))  # fmt: skip
    assert response.status_code == 403
    response = Client().post("/api/v1/customers/duplicates/find", {"threshold": 1.5},
                             content_type="application/json", **bearer("manager_a"))  # fmt: skip
    assert response.status_code == 400 and "threshold" in response.json()["fields"]
    assert queued.calls == []
    response = Client().post("/api/v1/customers/duplicates/find", {"threshold": 0.7},
                             content_type="application/json", **bearer("manager_a"))  # fmt: skip
    assert response.status_code == 202 and response.json()["queued"] is True
    client.force_login(User.objects.get(username="manager_a"))
    response = client.post(reverse("duplicates:duplicate_find"))
    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["info"]
    assert queued.calls == [(manager.store_id, manager.user_id, 0.7), (manager.store_id, manager.user_id, 0.6)]
    assert not DuplicatePair.objects.exists()  # queued, not run


def test_evidence_other_apps_register_blocks_scores_and_labels(manager, monkeypatch):
    """A module adds evidence without customers knowing it (as vehicles adds plate and VIN)."""
    from autocrm.customers import dedup

    a = make_customer(manager, name="陈静", district="闵行区")
    b = make_customer(manager, name="陈静怡", district="闵行区")
    c = make_customer(manager, name="王芳", district="徐汇区")
    monkeypatch.setattr(dedup.EVIDENCE, "_entries", {k: dict(v) for k, v in dedup.EVIDENCE._entries.items()})
    monkeypatch.setattr(dedup.EVIDENCE_SOURCES, "_entries", {})
    dedup.register_evidence("same_contract", weight=6.0, label="Same contract")
    dedup.register_evidence_source("testing", lambda store_id: [(a.pk, "same_contract", "HT-1"),
                                                                (b.pk, "same_contract", "HT-1"),
                                                                (c.pk, "same_contract", "HT-2")])  # fmt: skip
    duplicates_find(actor=manager)
    pair = DuplicatePair.objects.get()
    assert (pair.customer_a_id, pair.customer_b_id) == (a.pk, b.pk)
    assert pair.reasons[0]["code"] == "same_contract"  # the strongest reason first
    assert dedup.reason_text(pair.reasons[0]) == "Same contract"


def test_vehicles_evidence_comes_only_from_the_registry(manager, monkeypatch):
    from autocrm.customers import dedup

    a = make_customer(manager, name="陈静", district="闵行区")
    b = make_customer(manager, name="陈静怡", district="闵行区")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=a)
    vehicle_create(actor=manager, data={"vin": "1M8GDM9AXKP042788", "plate": "沪AD12345"}, customer=b)
    monkeypatch.setattr(dedup.EVIDENCE_SOURCES, "_entries", {})
    duplicates_find(actor=manager)
    assert not DuplicatePair.objects.exists()  # the names alone are not enough
