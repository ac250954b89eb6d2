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


# --- the COPY text path (ADR 0029) -----------------------------------------------------------------

HOSTILE_NAMES = ["王\t五", "赵\\六", '钱"七"', "孙\n八\r", "李{customer_name}", "周 🚗 九", "吴\\t十"]


def _mixed_customers(manager):
    """Customers with every outcome: consent, none, PIPL opt-out, hostile names."""
    from autocrm.customers.models import Customer

    made = []
    for n, name in enumerate(HOSTILE_NAMES):
        c = make_customer(manager, name=f"客户{n}", mobile=f"1390000{n:04d}")
        Customer.objects.filter(pk=c.pk).update(name=name)  # what no form would take, as an import might
        if n % 3 != 1:
            consent_record(actor=manager, customer=c, purpose="marketing", channel="sms")
        made.append(c)
    return made


def _check_planned(customers, key_prefix):
    from autocrm.customers.models import Customer

    names = dict(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("pk", "name"))
    for m in Message.objects.filter(idempotency_key__startswith=f"{key_prefix}:", customer__in=customers):
        assert m.idempotency_key == f"{key_prefix}:{m.customer_id}"
        assert m.variables == {"customer_name": names[m.customer_id], "offer": "免费\t检测\\"}
        assert m.to == Customer.objects.get(pk=m.customer_id).mobile  # the ciphertext copied, same key
        assert m.to_display.endswith(m.to[-4:])
        assert m.store_id == customers[0].store_id and m.template_id and m.account_id
        if m.status == "suppressed":
            assert m.reason == "no_consent" and m.reason_text
            [event] = TimelineEvent.objects.filter(customer_id=m.customer_id, kind="message.suppressed")
            assert event.object_id == str(m.pk)  # the timeline links the message it tells about
            assert event.summary.startswith("Winter check")
        else:
            assert (m.status, m.reason, m.reason_text) == ("queued", "", "")


def test_plan_bulk_copies_hostile_names_exactly(manager, sms_account, templates):
    customers = _mixed_customers(manager)
    counts = outbox.plan_bulk(store_id=customers[0].store_id, purpose="marketing", template=templates["marketing"],
                              key_prefix="w\\in:1", customer_ids=[c.pk for c in customers], now=NOON,
                              values={"offer": "免费\t检测\\"}, batch=3)  # fmt: skip
    assert (counts["planned"], counts["queued"], counts["suppressed"]) == (7, 5, 2)
    _check_planned(customers, "w\\in:1")


def test_plan_bulk_in_threads_writes_each_batch_once(committed_db, manager, sms_account, templates):
    """Outside a transaction on PostgreSQL the reader thread prepares batch n + 1 (ids drawn from
    the sequence, COPY text) while batch n is written; everywhere the result is the same."""
    customers = _mixed_customers(manager)
    store_id = customers[0].store_id
    kwargs = {"store_id": store_id, "purpose": "marketing", "template": templates["marketing"], "now": NOON,
              "key_prefix": "winter:9", "values": {"offer": "免费\t检测\\"}, "batch": 2}  # fmt: skip
    first = outbox.plan_bulk(customer_ids=[c.pk for c in customers[:4]], **kwargs)
    assert first["planned"] == 4
    again = outbox.plan_bulk(**kwargs)  # every customer of the store: the four are taken already
    assert again["skipped"] == 4 and again["planned"] >= 3
    assert (
        Message.objects.filter(idempotency_key__startswith="winter:9:").count() == first["planned"] + again["planned"]
    )
    _check_planned(customers, "winter:9")
    ids = list(Message.objects.filter(idempotency_key__startswith="winter:9:").values_list("pk", flat=True))
    assert len(ids) == len(set(ids))


def test_plan_bulk_suppresses_unsubscribed_capped_and_opted_out(manager, customer, sms_account, templates):
    from autocrm.messaging.models import Suppression

    capped = make_customer(manager, name="王五", mobile="13900000011")
    opted_out = make_customer(manager, name="赵六", mobile="13900000012", personalised_marketing_opt_out="1")
    unsubscribed = make_customer(manager, name="钱七", mobile="13900000013")
    for c in (capped, opted_out, unsubscribed):
        consent_record(actor=manager, customer=c, purpose="marketing", channel="sms")
    for k in range(2):
        Message.objects.create(store_id=customer.store_id, uid=f"old{k}", idempotency_key=f"old:{k}", customer=capped,
                               purpose="marketing", channel="sms", status="sent", sent_at=NOON)  # fmt: skip
    Suppression.objects.create(store_id=customer.store_id, channel="sms", address="+8613900000013",
                               customer=unsubscribed, reason="unsubscribed")  # fmt: skip
    ids = [customer.pk, capped.pk, opted_out.pk, unsubscribed.pk]
    counts = outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                              key_prefix="winter:5", customer_ids=ids, personalised=True, now=NOON)  # fmt: skip
    assert counts["reasons"] == {"cap": 1, "personalisation": 1, "unsubscribed": 1}
    reasons = dict(Message.objects.filter(idempotency_key__startswith="winter:5:").values_list("customer_id", "reason"))
    assert reasons == {
        customer.pk: "",
        capped.pk: "cap",
        opted_out.pk: "personalisation",
        unsubscribed.pk: "unsubscribed",
    }
    assert "2" in Message.objects.get(idempotency_key=f"winter:5:{capped.pk}").reason_text
    assert TimelineEvent.objects.filter(kind="message.suppressed", customer_id__in=ids).count() == 3


def test_message_keys_and_indexes_a_campaign_pays_for(db):
    """ADR 0029: the customer, template and account stay checked by the database; the store's key
    is not (PROTECTed, never deleted); lookups by customer, store, user and author stay indexed."""
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Message._meta.db_table)
    fks = {c["columns"][0]: c["foreign_key"][0] for c in constraints.values() if c["foreign_key"]}
    if connection.vendor == "postgresql":
        assert {"customer_id", "template_id", "account_id", "user_id", "created_by_id"} <= set(fks)
        assert "store_id" not in fks
    leading = {c["columns"][0] for c in constraints.values() if c["index"] or c["unique"]}
    assert {"customer_id", "store_id", "user_id", "created_by_id", "template_id", "account_id", "uid"} <= leading


def test_plan_bulk_copies_a_stored_address_that_needs_escaping(manager, customer, sms_account, templates):
    """Stored values are copied as they are; a legacy plaintext mobile with COPY's special
    characters (never written by our forms) arrives unchanged."""
    from django.db import connection

    from autocrm.customers.models import Customer

    odd = "+86 138\t0000\\1"
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Customer._meta.db_table} SET mobile = %s WHERE id = %s", [odd, customer.pk])
    outbox.plan_bulk(store_id=customer.store_id, purpose="marketing", template=templates["marketing"],
                     key_prefix="winter:6", customer_ids=[customer.pk], now=NOON)  # fmt: skip
    message = Message.objects.get(idempotency_key=f"winter:6:{customer.pk}")
    assert message.to == odd and message.status == "queued"
