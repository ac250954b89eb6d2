"""/api/v1/messages and /api/v1/channels/<provider>/callback, as a client sees them."""

from __future__ import annotations

import json

import pytest
from django.test import Client, TestCase

from autocrm.customers.models import TimelineEvent
from autocrm.customers.services import consent_allows, consent_withdraw
from autocrm.customers.tests.test_api import bearer
from autocrm.messaging.models import Message, MessageAttempt, SubscribeGrant, Suppression
from autocrm.messaging.tests.fakes import MemoryClient


@pytest.fixture
def api(demo):
    return Client()


def _send(api, user="manager_a", key="k-1", **body):
    payload = {"customer": body.pop("customer"), "template_code": "repair_done", "purpose": "service",
               "channel": "sms", "values": {"customer_name": "刘女士", "plate": "川A12345"}, **body}  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):  # the worker's delivery, after the commit
        r = api.post("/api/v1/messages", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key,
                     **bearer(user))  # fmt: skip
    return r


def test_send_list_retrieve_and_the_same_key_again(api, customer, sms_account, templates):
    r = _send(api, customer=customer.pk)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "queued" and body["to"] == "138****5678"  # delivered after the commit
    again = _send(api, customer=customer.pk)
    assert again.status_code == 200 and again.json()["uid"] == body["uid"]
    assert Message.objects.count() == 1 and len(MemoryClient.sent) == 1
    h = bearer("manager_a")
    page = api.get("/api/v1/messages", {"customer": customer.pk, "status": "sent"}, **h).json()  # by now
    assert [m["uid"] for m in page["items"]] == [body["uid"]] and page["next_cursor"] is None
    detail = api.get(f"/api/v1/messages/{body['uid']}", **h).json()
    assert detail["provider_id"] == f"p-{body['uid']}"
    assert [a["outcome"] for a in detail["attempt_list"]] == ["accepted"]
    # another store's staff: 404, the same as missing
    assert api.get(f"/api/v1/messages/{body['uid']}", **bearer("manager_b")).status_code == 404
    assert api.get("/api/v1/messages", **bearer("manager_b")).json()["items"] == []


def test_no_consent_is_201_suppressed_with_the_reason(api, manager, customer, sms_account, templates):
    consent_withdraw(actor=manager, customer=customer, purpose="service", channel="sms")
    r = _send(api, customer=customer.pk)
    assert r.status_code == 201
    assert (r.json()["status"], r.json()["reason"]) == ("suppressed", "no_consent")
    assert MemoryClient.sent == []


@pytest.mark.parametrize(
    ("change", "field"),
    [({"purpose": "spam"}, "purpose"), ({"channel": "pigeon"}, "channel"), ({"template_code": "nope"}, "template_code"),
     ({"values": {"customer_name": "a\x00b", "plate": "x"}}, "values.customer_name")],
)  # fmt: skip
def test_bad_input_is_400_naming_the_field(api, customer, sms_account, templates, change, field):
    r = _send(api, customer=customer.pk, **change)
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"]
    assert not Message.objects.exists()


def test_hostile_input(api, customer, sms_account, templates):
    h = bearer("manager_a")
    assert _send(api, customer=customer.pk, key="").status_code == 400
    assert _send(api, customer=customer.pk, key="x" * 500).status_code == 400
    assert _send(api, customer=2**70).status_code in (400, 404)
    assert _send(api, customer=999999).status_code == 404
    assert api.get("/api/v1/messages", {"customer": "1e999"}, **h).status_code == 400
    assert api.get("/api/v1/messages", {"status": "x\x00"}, **h).status_code == 400
    assert api.get("/api/v1/messages", {"cursor": "garbage"}, **h).status_code == 400
    assert api.get("/api/v1/messages/" + "z" * 32, **h).status_code == 404
    assert api.get("/api/v1/messages/" + "a" * 5000, **h).status_code == 404


def test_roles_and_purposes(api, customer, sms_account, templates):
    assert _send(api, "agent_a1", customer=customer.pk).status_code == 201
    r = _send(api, "agent_a1", key="k-2", customer=customer.pk, template_code="winter_check", purpose="marketing")
    assert r.status_code == 403
    r = _send(api, "marketing_a1", key="k-3", customer=customer.pk, template_code="winter_check", purpose="marketing")
    assert r.status_code == 201
    assert _send(api, "tech_a1", key="k-4", customer=customer.pk).status_code == 403


# --- callbacks ----------------------------------------------------------------------------------


def _callback(api, account, items, secret="s3cret", provider="test_memory"):
    return api.post(f"/api/v1/channels/{provider}/callback?account={account.pk if account else 'x'}",
                    json.dumps(items), content_type="application/json", HTTP_X_SECRET=secret)  # fmt: skip


def test_a_receipt_marks_delivered_once(api, customer, sms_account, templates):
    uid = _send(api, customer=customer.pk).json()["uid"]
    for _ in range(2):
        r = _callback(
            api, sms_account, [{"id": uid, "provider_id": f"p-{uid}", "status": "delivered", "code": "DELIVRD"}]
        )
        assert r.status_code == 200, r.content
    m = Message.objects.get(uid=uid)
    assert m.status == "delivered" and m.delivered_at is not None
    assert MessageAttempt.objects.filter(message=m, outcome="receipt").count() == 1


def test_forged_stale_or_unknown_callbacks_are_refused_and_change_nothing(api, customer, sms_account, templates):
    uid = _send(api, customer=customer.pk).json()["uid"]
    item = [{"id": uid, "status": "failed", "code": "X"}]
    assert _callback(api, sms_account, item, secret="wrong").status_code == 403
    assert _callback(api, sms_account, item, secret="").status_code == 403
    assert _callback(api, None, item).status_code == 403  # account "x"
    r = api.post(f"/api/v1/channels/test_memory/callback?account={2**70}", "[]", content_type="application/json",
                 HTTP_X_SECRET="s3cret")  # fmt: skip
    assert r.status_code == 403
    assert _callback(api, sms_account, item, provider="nosuch").status_code == 404
    r = api.post(f"/api/v1/channels/test_memory/callback?account={sms_account.pk}", b"\x00\xff{",
                 content_type="application/json", HTTP_X_SECRET="s3cret")  # fmt: skip
    assert r.status_code == 403
    assert Message.objects.get(uid=uid).status == "sent"
    assert not MessageAttempt.objects.filter(outcome="receipt").exists()


def test_a_blacklisted_receipt_suppresses_and_withdraws_marketing(api, customer, sms_account, templates):
    uid = _send(api, customer=customer.pk).json()["uid"]
    _callback(api, sms_account, [{"id": uid, "status": "failed", "code": "BLACK", "blacklisted": True}])
    assert Message.objects.get(uid=uid).status == "suppressed"
    assert Suppression.objects.filter(reason="blacklist").count() == 1
    assert not consent_allows(customer=customer, purpose="marketing", channel="sms")


@pytest.mark.parametrize("word", ["R", " td ", "Ｔ", "退订", "取消", "拒收", "n"])
def test_an_unsubscribe_reply_withdraws_marketing_consent(api, customer, sms_account, templates, word):
    r = _callback(api, sms_account, [{"type": "reply", "from": "+8613812345678", "text": word}])
    assert r.status_code == 200
    assert not consent_allows(customer=customer, purpose="marketing", channel="sms")
    assert consent_allows(customer=customer, purpose="service", channel="sms")
    assert Suppression.objects.filter(channel="sms", reason="unsubscribed").count() == 1
    assert TimelineEvent.objects.filter(customer=customer, kind="message.unsubscribed").exists()
    # the next marketing message is suppressed before it reaches the provider
    r = _send(api, "marketing_a1", key="m-1", customer=customer.pk, template_code="winter_check", purpose="marketing")
    assert r.json()["status"] == "suppressed"


def test_other_replies_go_on_the_timeline(api, customer, sms_account, templates):
    _callback(api, sms_account, [{"type": "reply", "from": "+8613812345678", "text": "R 明天可以吗"}])
    assert consent_allows(customer=customer, purpose="marketing", channel="sms")
    assert TimelineEvent.objects.filter(customer=customer, kind="message.reply", summary="R 明天可以吗").exists()


def test_grant_events_feed_the_ledger(api, store_a, sms_account):
    event = {"type": "reply", "from": "oOPENID", "event": "subscribe_msg_popup_event",
             "data": {"list": [{"TemplateId": "T1", "SubscribeStatusString": "accept"}]}}  # fmt: skip
    _callback(api, sms_account, [event, event])
    assert SubscribeGrant.objects.get(openid="oOPENID", template_id="T1").remaining == 2


def test_short_link_redirects_and_counts(api, manager, customer, sms_account, store_a):
    from autocrm.messaging.models import MessageTemplate, ShortLink
    from autocrm.messaging.services import message_queue

    MessageTemplate.objects.create(store=store_a, code="survey", name="Survey", purpose="survey", channel="sms",
                                   body="请评价：{link}", provider_template_id="9", param_order=["link"])  # fmt: skip
    m = message_queue(actor=manager, store=store_a, purpose="survey", channel="sms", template_code="survey",
                      customer=customer, values={"link": "https://example.cn/survey?id=1"},
                      idempotency_key="survey:1", track_links=True)  # fmt: skip
    link = ShortLink.objects.get(message=m)
    assert m.variables["link"].endswith(f"/s/{link.code}")
    for _ in range(2):
        r = api.get(f"/s/{link.code}")
        assert r.status_code == 302 and r["Location"] == "https://example.cn/survey?id=1"
    link.refresh_from_db()
    assert link.clicks == 2
    assert TimelineEvent.objects.filter(customer=customer, kind="message.clicked").count() == 1
    assert api.get("/s/nope").status_code == 404
    assert api.get("/s/" + "x" * 300).status_code == 404
