"""The batch delivery loop (``outbox.deliver_due``, issue 12's performance targets): a fixed
number of statements for a batch, concurrent sends over kept-alive connections, pacing with one
counter hit, and every guarantee of ADR 0013 kept — a worker dying between the sends and the
batch's commit leaves claims that the sweep reconciles with the provider, never a second copy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from autocrm.customers.services import consent_record
from autocrm.customers.tests.factories import make_customer
from autocrm.messaging import outbox, policy
from autocrm.messaging.models import ChannelAccount, Message, MessageAttempt
from autocrm.messaging.tests.conftest import NOON
from autocrm.messaging.tests.fakes import FakeProvider, MemoryClient


@pytest.fixture
def provider():
    with FakeProvider(0) as p:
        yield p


@pytest.fixture
def http_account(store_a, provider):
    return ChannelAccount.objects.create(
        store=store_a, provider="test_http", channel="sms", name="http", endpoint=provider.url, callback_secret="s3"
    )


def _customers(manager, n: int, *, consent: bool = True, start: int = 0) -> list:
    out = []
    for i in range(start, start + n):
        c = make_customer(manager, name=f"客户{i}", mobile=f"1390000{i:04d}")
        if consent:
            consent_record(actor=manager, customer=c, purpose="service", channel="sms", source="test")
        out.append(c)
    return out


def _plan(customers, templates, key: str) -> dict:
    return outbox.plan_bulk(store_id=customers[0].store_id, purpose="service", template=templates["service"],
                            key_prefix=key, customer_ids=[c.pk for c in customers], values={"plate": "沪A12345"},
                            now=NOON)  # fmt: skip


def _later() -> dt.datetime:
    return NOON + outbox.STALE_AFTER + dt.timedelta(seconds=5)


def test_a_batch_goes_to_the_provider_once_each_over_concurrent_kept_alive_connections(
    manager, templates, http_account, provider
):
    customers = _customers(manager, 12)
    _plan(customers, templates, "repair:a")
    assert outbox.deliver_due(now=NOON) == {"sent": 12}
    assert sorted(a["id"] for a in provider.accepted) == sorted(Message.objects.values_list("uid", flat=True))
    assert set(Message.objects.values_list("status", "claimed_by")) == {("sent", "")}
    assert MessageAttempt.objects.filter(outcome="accepted").count() == 12
    by_uid = {a["id"]: a["serial"] for a in provider.accepted}
    for uid, provider_id in Message.objects.values_list("uid", "provider_id"):
        assert by_uid[uid] == provider_id
    assert outbox.deliver_due(now=NOON) == {}  # nothing left: nothing sent twice
    assert len(provider.accepted) == 12


def test_the_statements_of_a_batch_do_not_grow_with_its_size(manager, templates, sms_account):
    few, many = _customers(manager, 3), _customers(manager, 20, start=100)
    counted = []
    for key, group in (("repair:few", few), ("repair:many", many)):
        _plan(group, templates, key)
        with CaptureQueriesContext(connection) as captured:
            assert outbox.deliver_due(now=NOON) == {"sent": len(group)}
        counted.append(len([q for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]))
    assert counted[0] == counted[1], counted


def test_suppressions_and_holds_in_a_batch_are_recorded_by_the_one_message_path(manager, templates, sms_account):
    ok = _customers(manager, 3)
    bare = _customers(manager, 1, consent=False, start=50)
    _plan(ok, templates, "repair:b")
    # consent given at planning time and withdrawn before the send
    consent_record(actor=manager, customer=bare[0], purpose="service", channel="sms", source="test")
    _plan(bare, templates, "repair:b")
    consent_record(actor=manager, customer=bare[0], purpose="service", channel="sms", source="test", granted=False)
    assert outbox.deliver_due(now=NOON) == {"sent": 3, "suppressed": 1}
    suppressed = Message.objects.get(customer=bare[0])
    assert (suppressed.status, suppressed.reason) == ("suppressed", "no_consent")
    assert len(MemoryClient.sent) == 3


def test_over_the_rate_the_rest_of_a_batch_waits_for_the_next_second(manager, templates, sms_account, monkeypatch):
    monkeypatch.setattr(MemoryClient, "rate_per_second", 4.0)
    _plan(_customers(manager, 7), templates, "repair:c")
    counts = outbox.deliver_due(now=NOON)
    assert counts == {"sent": 4, "paced": 3}
    waiting = Message.objects.filter(status="queued")
    assert waiting.count() == 3
    assert {m.attempts for m in waiting} == {0}  # a paced message has not been tried
    assert {m.claimed_by for m in waiting} == {""}
    assert len(MemoryClient.sent) == 4


def test_rate_take_grants_what_is_left_of_the_second():
    now = 1_900_000_000.25
    assert outbox.rate_take(987654, 10, 6, now=now) == (6, 0.75)
    assert outbox.rate_take(987654, 10, 6, now=now) == (4, 0.75)
    assert outbox.rate_take(987654, 10, 1, now=now)[0] == 0
    assert outbox.rate_wait(987654, 10, now=now) > 0
    assert outbox.rate_take(987654, 10, 6, now=now + 1)[0] == 6  # a new second


def test_provider_errors_in_a_batch_take_their_own_path(manager, templates, store_a):
    account = ChannelAccount.objects.create(
        store=store_a, provider="test_memory", channel="sms", name="mem", public_config={"fail": "permanent"}
    )
    _plan(_customers(manager, 2), templates, "repair:d")
    assert outbox.deliver_due(now=NOON) == {"failed": 2}
    assert set(Message.objects.values_list("status", "account_id")) == {("failed", account.pk)}
    assert MessageAttempt.objects.filter(outcome="failed").count() == 2


class WorkerDied(BaseException):
    """What SIGKILL does to the worker between the sends and the commit (no handler runs)."""


def test_a_worker_dying_between_the_sends_and_the_record_is_reconciled_never_resent(
    manager, templates, http_account, provider, monkeypatch
):
    _plan(_customers(manager, 5), templates, "repair:e")

    def die(*args, **kwargs):
        raise WorkerDied

    with monkeypatch.context() as m:
        m.setattr(outbox, "_record_sent_many", die)
        with pytest.raises(WorkerDied):
            outbox.deliver_due(now=NOON, worker="doomed")
    assert len(provider.accepted) == 5
    assert set(Message.objects.values_list("status", "claimed_by")) == {("sending", "doomed")}
    outbox.clients_close()
    # Not stale yet: nothing is touched (the worker may still be alive).
    assert outbox.sweep(now=NOON)["reconciled"] == 0
    counts = outbox.sweep(now=_later())
    assert counts["reconciled"] == 5
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert outbox.deliver_due(now=_later()) == {}
    assert len(provider.accepted) == 5  # exactly one copy each
    assert MessageAttempt.objects.filter(outcome="reconciled").count() == 5


def test_a_batch_whose_claims_were_taken_over_records_nothing_over_them(
    manager, templates, http_account, provider, monkeypatch
):
    _plan(_customers(manager, 3), templates, "repair:f")
    real = outbox._record_sent_many
    taken: list[int] = []

    def reconciler_first(sent, worker):
        # a reconciler took the first message's claim over while the sends were out
        pk = sent[0][0].pk
        Message.objects.filter(pk=pk).update(claimed_by="reconciler")
        taken.append(pk)
        return real(sent, worker)

    monkeypatch.setattr(outbox, "_record_sent_many", reconciler_first)
    outbox.deliver_due(now=NOON, worker="slow")
    first = Message.objects.get(pk=taken[0])
    assert (first.status, first.claimed_by) == ("sending", "reconciler")
    assert not MessageAttempt.objects.filter(message=first).exists()
    assert Message.objects.filter(status="sent").count() == 2


def test_a_receipt_quicker_than_the_record_keeps_delivered_and_the_record_still_lands(
    manager, templates, http_account, provider, monkeypatch
):
    _plan(_customers(manager, 2), templates, "repair:h")
    real = outbox._record_sent_many

    def receipt_first(sent, worker):
        Message.objects.filter(pk=sent[0][0].pk).update(status="delivered", delivered_at=NOON)  # the receipt's update
        return real(sent, worker)

    monkeypatch.setattr(outbox, "_record_sent_many", receipt_first)
    assert outbox.deliver_due(now=NOON) == {"sent": 2}
    rows = sorted(Message.objects.values_list("status", "claimed_by", "provider_id"))
    assert [(st, cb) for st, cb, _p in rows] == [("delivered", ""), ("sent", "")]
    assert all(p for _s, _c, p in rows)
    assert MessageAttempt.objects.filter(outcome="accepted").count() == 2


def test_a_lost_connection_after_the_request_left_is_in_doubt(manager, templates, http_account, provider):
    """The kept-alive client tells "never left" from "may have reached the provider": the latter
    is asked about before any resend (found → sent, not doubled)."""
    _plan(_customers(manager, 1), templates, "repair:g")
    provider.hold = True
    client = outbox.client_for(http_account)
    client._http.timeout = 0.3
    client._http.close()
    try:
        assert outbox.deliver_due(now=NOON) == {"retry": 1}
    finally:
        provider.released.set()
    message = Message.objects.get()
    assert message.status == "queued"
    client._http.timeout = 30
    client._http.close()
    assert outbox.deliver(message.pk, now=message.not_before).kind == "reconciled"
    assert len(provider.accepted) == 1


def test_one_check_alone_is_one_round_trip_and_decides_as_the_batch_does(manager, templates, sms_account, store_a):
    from autocrm.messaging.models import Suppression

    customers = _customers(manager, 3)
    consent_record(actor=manager, customer=customers[1], purpose="marketing", channel="sms", source="test")
    outbox.plan_bulk(store_id=store_a.pk, purpose="marketing", template=templates["marketing"], key_prefix="m",
                     customer_ids=[c.pk for c in customers], now=NOON - dt.timedelta(days=30))  # fmt: skip
    Message.objects.update(status="queued")  # planned a month ago, when nothing was known
    blocked = Message.objects.get(customer=customers[2])
    Suppression.objects.create(store=store_a, channel="sms", address=blocked.to, reason="unsubscribed")
    messages = list(Message.objects.select_related("customer").order_by("id"))
    batch = policy.PolicyContext()
    batch.load(store_id=store_a.pk, customer_ids=[m.customer_id for m in messages],
               addresses=[(m.channel, m.to_index) for m in messages], now=NOON)  # fmt: skip
    for m in messages:
        with CaptureQueriesContext(connection) as captured:
            alone = policy.check(m, now=NOON)
        assert len(captured.captured_queries) == 1
        assert alone == policy.check(m, now=NOON, context=batch)
    assert [policy.check(m, now=NOON).reason for m in messages] == ["no_consent", "", "unsubscribed"]
