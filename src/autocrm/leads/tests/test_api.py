import threading

import pytest
from django.db import connection
from django.test import Client

from autocrm.customers.tests.test_api import bearer
from autocrm.leads.models import Lead, LeadActivity, LostRequest

from .factories import actor_for, make_lead, on_duty, uid

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(demo):
    on_duty("a", "sales_a1", "sales_a2")
    return Client()


def post(api, path, username, data):
    return api.post(f"/api/v1{path}", data, content_type="application/json", **bearer(username))


def test_create_answer_shape_and_idempotent_external_id(api):
    r = post(
        api,
        "/leads",
        "sales_manager_a",
        {
            "name": "韩梅梅",
            "mobile": "13822223333",
            "external_id": "dcd-9",
            "source_channel": "dongchedi",
            "grade": "A",
        },
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert {"id", "status", "grade", "consultant", "customer"} <= set(body)
    assert body["mobile"] == "138****3333" and body["status"] == "new" and body["grade"] == "A" and body["consultant"]
    again = post(api, "/leads", "sales_manager_a", {"mobile": "13999990000", "external_id": "dcd-9"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    linked = post(api, "/leads", "sales_manager_a", {"mobile": "+8613822223333", "source_channel": "yiche"})
    assert linked.status_code == 200 and linked.json()["id"] == body["id"] and linked.json()["linked"]
    assert Lead.objects.count() == 1


@pytest.mark.parametrize("data", [
    {}, {"name": "无联系方式"}, {"mobile": "138\x0022223333"}, {"mobile": {"a": 1}}, {"mobile": 10**400},
    {"mobile": "13822223333", "grade": "HH"}, {"mobile": "13822223333", "consultant": "abc"},
    {"mobile": "13822223333", "consultant": 10**30}, {"mobile": "13822223333", "name": "\ud800"},
    {"mobile": "13822223333", "message": "长" * 10000},
])  # fmt: skip
def test_hostile_create_is_400_nothing_written(api, data):
    r = post(api, "/leads", "sales_manager_a", data)
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid" and r.json()["fields"]
    assert not Lead.objects.exists()


def test_hostile_ids_and_filters(api):
    h = bearer("sales_manager_a")
    assert api.get("/api/v1/leads/999999999", **h).status_code == 404
    assert api.get("/api/v1/leads/99999999999999999999999", **h).status_code in (400, 404)
    assert api.get("/api/v1/leads?status=bogus", **h).status_code == 400
    assert api.get("/api/v1/leads?consultant=-1", **h).status_code == 400
    assert api.get("/api/v1/leads?cursor=%00abc", **h).status_code == 400
    assert api.get("/api/v1/leads?limit=1000000000000", **h).status_code == 400


def test_scope_consultant_own_manager_store_director_group(api):
    mgr_a, mgr_b = actor_for("sales_manager_a", "a"), actor_for("sales_manager_b", "b")
    mine = make_lead(mgr_a, consultant_id=uid("sales_a1"))
    theirs = make_lead(mgr_a, consultant_id=uid("sales_a2"))
    other_store = make_lead(mgr_b)
    ids = lambda user: {x["id"] for x in api.get("/api/v1/leads?limit=200", **bearer(user)).json()["items"]}  # noqa: E731
    assert ids("sales_a1") == {mine.pk}
    assert ids("sales_manager_a") == {mine.pk, theirs.pk}
    assert ids("director") >= {mine.pk, theirs.pk, other_store.pk}
    assert api.get(f"/api/v1/leads/{theirs.pk}", **bearer("sales_a1")).status_code == 404
    assert api.get(f"/api/v1/leads/{other_store.pk}", **bearer("sales_manager_a")).status_code == 404


def test_assign_endpoint_reason_version_and_403(api):
    lead = make_lead(actor_for("sales_manager_a", "a"), consultant_id=uid("sales_a1"))
    r = post(
        api,
        f"/leads/{lead.pk}/assign",
        "sales_manager_a",
        {"consultant": uid("sales_a2"), "reason": "换人", "version": 0},
    )
    assert r.status_code == 200 and r.json()["consultant"] == uid("sales_a2") and r.json()["version"] == 1
    stale = post(
        api, f"/leads/{lead.pk}/assign", "sales_manager_a", {"consultant": uid("sales_a1"), "reason": "x", "version": 0}
    )
    assert stale.status_code == 409
    assert (
        post(api, f"/leads/{lead.pk}/assign", "sales_manager_a", {"consultant": "x", "reason": "x"}).status_code == 400
    )
    assert post(api, f"/leads/{lead.pk}/assign", "sales_a2", {"consultant": uid("sales_a2")}).status_code == 403


def test_activity_sets_first_contact_and_next_action(api):
    lead = make_lead(actor_for("sales_manager_a", "a"), consultant_id=uid("sales_a1"), grade="H")
    r = post(
        api, f"/leads/{lead.pk}/activities", "sales_a1", {"kind": "call", "outcome": "reached", "note": "约周六到店"}
    )
    assert r.status_code == 201, r.content
    lead.refresh_from_db()
    assert lead.first_contact_at and lead.status == "contacted" and lead.next_action_at > lead.first_contact_at
    for bad in (
        {"kind": "teleport"},
        {"kind": "call", "next_action_at": "tomorrow"},
        {"kind": "call", "next_action_at": "9999-01-01T00:00"},
        {"kind": "note", "note": "\x00"},
        {"kind": {}, "outcome": ""},  # found by schemathesis: a 500 before
        {"kind": ["call"]},
        {"kind": "call", "outcome": {"x": 1}},
    ):
        assert post(api, f"/leads/{lead.pk}/activities", "sales_a1", bad).status_code == 400
    assert LeadActivity.objects.filter(lead=lead, kind="call").count() == 1
    assert post(api, f"/leads/{lead.pk}/activities", "sales_a2", {"kind": "call"}).status_code == 404


def test_lost_request_approve_return_and_report(api):
    mgr = actor_for("sales_manager_a", "a")
    a = make_lead(mgr, consultant_id=uid("sales_a1"))
    b = make_lead(mgr, consultant_id=uid("sales_a1"))
    assert post(api, f"/leads/{a.pk}/lost-request", "sales_a1", {"reason": "teleported"}).status_code == 400
    r = post(api, f"/leads/{a.pk}/lost-request", "sales_a1", {"reason": "price", "note": "嫌贵"})
    assert r.status_code == 201 and r.json()["lead_status"] == "lost_requested"
    assert post(api, f"/leads/{a.pk}/lost-request", "sales_a1", {"reason": "price"}).status_code == 409
    rid = r.json()["id"]
    assert post(api, f"/lost-requests/{rid}/approve", "sales_a1", {}).status_code == 403
    ok = post(api, f"/lost-requests/{rid}/approve", "sales_manager_a", {"note": "同意"})
    assert ok.status_code == 200 and ok.json()["lead_status"] == "lost"
    assert post(api, f"/lost-requests/{rid}/approve", "sales_manager_a", {}).status_code == 409
    rb = post(api, f"/leads/{b.pk}/lost-request", "sales_a1", {"reason": "unreachable"}).json()["id"]
    assert post(api, f"/lost-requests/{rb}/return", "sales_manager_a", {}).status_code == 400  # a note is needed
    back = post(api, f"/lost-requests/{rb}/return", "sales_manager_a", {"note": "再打一次"})
    assert back.status_code == 200 and back.json()["lead_status"] == "new"
    assert LostRequest.objects.get(pk=rb).status == "returned"
    report = api.get("/api/v1/lost-requests/report", **bearer("sales_manager_a")).json()
    assert report == [{"reason": "price", "count": 1}]
    assert post(api, "/lost-requests/99999999/approve", "sales_manager_a", {}).status_code == 404


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL")
def test_two_managers_one_lead_one_wins_other_409(committed_db):
    from autocrm.demo.services import demo_create

    demo_create()
    on_duty("a", "sales_a1", "sales_a2")
    lead = make_lead(actor_for("sales_manager_a", "a"))
    targets = {"sales_manager_a": uid("sales_a1"), "manager_a": uid("sales_a2")}
    barrier, results = threading.Barrier(2), {}

    def run(username):
        from django.db import connections

        from autocrm.core.errors import Conflict
        from autocrm.leads.services import lead_assign

        try:
            actor = actor_for(username, "a")
            seen = Lead.objects.get(pk=lead.pk)
            barrier.wait()
            lead_assign(actor=actor, lead=seen, consultant_id=targets[username], reason="并发")
            results[username] = 200
        except Conflict:
            results[username] = 409
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    assert Lead.objects.get(pk=lead.pk).version == 1
