"""The care API: the complaint loop end to end with its 409s, hostile input as 400s naming the
field, another store's records as 404s, the public survey endpoint answered once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.care import services
from autocrm.care.models import Complaint, FollowUp, SurveyInvitation
from autocrm.tenancy.models import Store

from .factories import actor_for, close_repair_order, make_car


def bearer(username):
    return {"Authorization": f"Bearer {token_issue_session(user=User.objects.get(username=username))[1]}"}


@pytest.fixture
def setup(demo):
    store = Store.objects.get(code="a")
    customer, car = make_car(actor_for("advisor_a1", "a"))
    ro = close_repair_order(store.pk, customer, car)
    return store, customer, ro


def test_the_complaint_loop_through_the_api(setup):
    _store, _customer, ro = setup
    c = Client()
    agent = bearer("agent_a1")
    call = FollowUp.objects.get(source_id=ro, kind="service")
    r = c.post(f"/api/v1/follow-ups/{call.pk}/outcome", {"outcome": "issue", "note": "配件等了两周", "raise_complaint": True,
               "category": "parts", "severity": "medium"}, content_type="application/json", headers=agent)  # fmt: skip
    assert r.status_code == 200, r.content
    cid = r.json()["complaint"]
    advisor_id = User.objects.get(username="advisor_a1").pk
    steps = [{"assignee": advisor_id}, {}, {"resolution": "已补货并致歉"}]
    for step in steps:
        assert c.post(f"/api/v1/complaints/{cid}/advance", step, content_type="application/json",
                      headers=agent).status_code == 200  # fmt: skip
    r = c.post(f"/api/v1/complaints/{cid}/advance", {}, content_type="application/json", headers=agent)
    assert r.status_code == 409 and set(r.json()["fields"]) == {"root_cause", "customer_confirmed"}
    r = c.post(f"/api/v1/complaints/{cid}/advance", {"root_cause": "parts_delay", "customer_confirmed": True},
               content_type="application/json", headers=agent)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = c.post(f"/api/v1/complaints/{cid}/escalate", {}, content_type="application/json", headers=bearer("manager_a"))
    assert r.status_code == 409
    listed = c.get("/api/v1/complaints?status=all", headers=agent).json()["items"]
    assert [x["id"] for x in listed] == [cid]


def test_hostile_input_is_a_400_naming_the_field(setup):
    _store, customer, _ro = setup
    c = Client()
    agent = bearer("agent_a1")
    for body, field in [({"customer": customer.pk, "description": "x" * 5000}, "description"),
                        ({"customer": customer.pk, "description": "好", "channel": "fax"}, "channel"),
                        ({"description": "好"}, "customer")]:  # fmt: skip
        r = c.post("/api/v1/complaints", body, content_type="application/json", headers=agent)
        assert r.status_code == 400 and field in r.json()["fields"], (body, r.content)
    assert c.get("/api/v1/complaints?status=nope", headers=agent).status_code == 400
    assert c.get("/api/v1/follow-ups?cursor=forged", headers=agent).status_code == 400
    assert not Complaint.objects.exists()


def test_another_stores_records_are_404(setup):
    _store, customer, ro = setup
    call = FollowUp.objects.get(source_id=ro, kind="service")
    complaint = services.complaint_create(actor=actor_for("agent_a1", "a"),
                                          data={"customer": customer.pk, "description": "态度差"})  # fmt: skip
    c = Client()
    other = bearer("agent_b1")
    assert c.get(f"/api/v1/follow-ups/{call.pk}", headers=other).status_code == 404
    assert c.get(f"/api/v1/complaints/{complaint.pk}", headers=other).status_code == 404
    assert c.get("/api/v1/follow-ups", headers=other).json()["items"] == []


def test_the_public_survey_endpoint_takes_one_answer(setup):
    _store, _customer, ro = setup
    inv = SurveyInvitation.objects.get(source_id=ro, template__kind="nps")
    SurveyInvitation.objects.filter(pk=inv.pk).update(opened_at=timezone.now() - dt.timedelta(minutes=5))
    token = services.survey_token(inv)
    c = Client()
    assert c.get(f"/api/v1/surveys/public/{token}").json()["kind"] == "nps"
    r = c.post(f"/api/v1/surveys/public/{token}", {"nps": 9, "comment": "很好"}, content_type="application/json")
    assert r.status_code == 200, r.content
    r = c.post(f"/api/v1/surveys/public/{token}", {"nps": 0}, content_type="application/json")
    assert r.status_code == 409
    assert c.get("/api/v1/surveys/public/forged").status_code == 404
    scores = c.get("/api/v1/surveys/scores?by=staff", headers=bearer("manager_a")).json()
    assert scores[0]["nps"] == 100.0
