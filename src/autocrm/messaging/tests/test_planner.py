"""The bulk planner and the batch delivery loop: the same rules as one message at a time."""

from __future__ import annotations

import json

from django.test import Client

from autocrm.customers.models import TimelineEvent
from autocrm.customers.services import consent_record
from autocrm.customers.tests.factories import make_customer
from autocrm.messaging import outbox
from autocrm.messaging.models import Message, MessageAttempt
from autocrm.messaging.tests.conftest import NIGHT, NOON
from autocrm.messaging.tests.fakes import MemoryClient


def test_plan_bulk_decides_each_message_and_is_idempotent(manager, customer, sms_account, templates):
    no_consent = make_customer(manager, name="王五", mobile="13900000001")
    opted_out = make_customer(manager, name="赵六", mobile="13900000002", personalised_marketing_opt_out="1")
    consent_record(actor=manager, customer=opted_out, purpose="marketing", channel="sms")
    ids = [customer.pk, no_consent.pk, opted_out.pk]
    counts = outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                              key_prefix="winter:1", customer_ids=ids, personalised=True, now=NOON)  # fmt: skip
    assert (counts["planned"], counts["queued"], counts["suppressed"]) == (3, 1, 2)
    assert counts["reasons"] == {"no_consent": 1, "personalisation": 1}
    assert Message.objects.get(customer=no_consent).reason == "no_consent"
    assert TimelineEvent.objects.filter(customer=opted_out, kind="message.suppressed").count() == 1
    again = outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                             key_prefix="winter:1", customer_ids=ids, now=NOON)  # fmt: skip
    assert (again["planned"], again["skipped"]) == (0, 3)
    # the planned message carries the customer's mobile under the same key, readable by the worker
    assert outbox.deliver_due(now=NOON) == {"sent": 1}
    [sent] = MemoryClient.sent
    assert sent.to == "+8613812345678" and sent.text.startswith("刘萍平您好") and sent.text.endswith("拒收请回复R")


def test_plan_bulk_holds_marketing_at_night(manager, customer, sms_account, templates):
    counts = outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                              key_prefix="winter:2", now=NIGHT)  # fmt: skip
    assert counts["held"] == 1
    assert outbox.deliver_due(now=NIGHT) == {}
    message = Message.objects.get(customer=customer)
    assert outbox.deliver_due(now=message.not_before) == {"sent": 1}


def test_deliver_due_checks_again_and_takes_each_message_once(manager, customer, sms_account, templates):
    from autocrm.customers.services import consent_withdraw

    outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                     key_prefix="winter:3", now=NOON)  # fmt: skip
    consent_withdraw(actor=manager, customer=customer, purpose="marketing", channel="sms")
    assert outbox.deliver_due(now=NOON) == {"suppressed": 1}
    assert outbox.deliver_due(now=NOON) == {}
    assert MemoryClient.sent == []


def test_batched_receipts_apply_once(demo, manager, customer, sms_account, templates):
    second = make_customer(manager, name="王五", mobile="13900000001")
    for c in (customer, second):
        consent_record(actor=manager, customer=c, purpose="marketing", channel="sms")
    outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                     key_prefix="winter:4", now=NOON)  # fmt: skip
    outbox.deliver_due(now=NOON)
    uids = list(Message.objects.values_list("uid", flat=True))
    body = json.dumps([{"id": u, "status": "delivered", "code": "DELIVRD"} for u in uids])
    for _ in range(2):
        r = Client().post(f"/api/v1/channels/test_memory/callback?account={sms_account.pk}", body,
                          content_type="application/json", HTTP_X_SECRET="s3cret")  # fmt: skip
        assert r.status_code == 200
    assert set(Message.objects.values_list("status", flat=True)) == {"delivered"}
    assert MessageAttempt.objects.filter(outcome="receipt").count() == 2
