"""The outbox end to end in one process: queue → policy at send time → provider → status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from autocrm.core.errors import PermissionDenied, ValidationError
from autocrm.customers.models import Consent, TimelineEvent
from autocrm.customers.services import consent_allows, consent_withdraw
from autocrm.customers.tests.factories import actor_for
from autocrm.messaging import outbox
from autocrm.messaging.models import Message, MessageAttempt, Suppression
from autocrm.messaging.services import message_queue
from autocrm.messaging.tests.conftest import NIGHT, NOON
from autocrm.messaging.tests.fakes import MemoryClient


def _queue(actor, customer, template_code="repair_done", purpose="service", key="k1", **kw):
    return message_queue(
        actor=actor, store=customer.store_id, purpose=purpose, channel=kw.pop("channel", "sms"),
        template_code=template_code, customer=customer, values={"customer_name": "刘女士", "plate": "川A12345"},
        idempotency_key=key, **kw,
    )  # fmt: skip


def test_queued_in_the_callers_transaction_and_delivered_after_commit(
    manager, customer, sms_account, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _queue(manager, customer)
        assert MemoryClient.sent == []  # nothing goes before the commit
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.provider_id == f"p-{message.uid}"
    [sent] = MemoryClient.sent
    assert sent.message_id == message.uid and sent.to == "+8613812345678"
    assert sent.text == "刘女士您好，您的车川A12345已修好。" and sent.params == ("刘女士", "川A12345")
    assert list(MessageAttempt.objects.filter(message=message).values_list("outcome", flat=True)) == ["accepted"]


def test_a_rolled_back_cause_sends_nothing(
    manager, customer, sms_account, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _queue(manager, customer)
        raise RuntimeError
    assert not Message.objects.exists() and MemoryClient.sent == []


def test_the_same_key_twice_is_one_message(
    manager, customer, sms_account, templates, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _queue(manager, customer, key="appointment-reminder:7")
        again = _queue(manager, customer, key="appointment-reminder:7")
    assert first.pk == again.pk
    assert Message.objects.count() == 1 and len(MemoryClient.sent) == 1


def test_delivering_twice_sends_once(manager, customer, sms_account, templates):
    message = _queue(manager, customer)
    assert outbox.deliver(message.pk).kind == "sent"
    assert outbox.deliver(message.pk).kind == "skipped"
    assert len(MemoryClient.sent) == 1


def test_consent_is_checked_at_send_time_not_only_at_queue_time(manager, customer, sms_account, templates):
    message = _queue(manager, customer)  # consent in force when queued
    consent_withdraw(actor=manager, customer=customer, purpose="service", channel="sms")
    assert outbox.deliver(message.pk).kind == "suppressed"
    message.refresh_from_db()
    assert (message.status, message.reason) == ("suppressed", "no_consent")
    assert MemoryClient.sent == []
    assert TimelineEvent.objects.filter(customer=customer, kind="message.suppressed").exists()


def test_marketing_outside_the_window_is_held_to_the_next_opening(manager, customer, sms_account, templates):
    message = _queue(manager, customer, "winter_check", "marketing")
    night = NIGHT
    out = outbox.deliver(message.pk, now=night)
    message.refresh_from_db()
    assert out.kind == "held" and message.status == "held"
    assert message.not_before == dt.datetime(2027, 1, 6, 0, 0, tzinfo=dt.UTC)  # 08:00 Shanghai
    assert outbox.deliver(message.pk, now=night).kind == "skipped"  # not due yet
    assert outbox.deliver(message.pk, now=message.not_before).kind == "sent"
    assert MemoryClient.sent[0].text.endswith("拒收请回复R")  # marketing SMS carry the unsubscribe text
    assert Message.objects.get(pk=message.pk).attempts == 1  # a hold is not an attempt


def test_the_customers_quiet_hours_hold_marketing(manager, customer, sms_account, templates):
    customer.quiet_hours_start, customer.quiet_hours_end = dt.time(9, 0), dt.time(12, 0)
    customer.save()
    message = _queue(manager, customer, "winter_check", "marketing")
    assert outbox.deliver(message.pk, now=NOON).kind == "held"  # 10:00 Shanghai
    message.refresh_from_db()
    assert message.not_before == dt.datetime(2027, 1, 5, 4, 0, tzinfo=dt.UTC)  # 12:00 Shanghai


def test_service_notices_ignore_the_window_and_the_cap(manager, customer, sms_account, templates):
    for i in range(3):
        Message.objects.create(
            store_id=customer.store_id, uid=f"{i:032x}", idempotency_key=f"old{i}", customer=customer,
            purpose="marketing", channel="sms", status="sent", sent_at=NOON - dt.timedelta(days=1),
        )  # fmt: skip
    night = NIGHT
    assert outbox.deliver(_queue(manager, customer, key="svc").pk, now=night).kind == "sent"
    marketing = _queue(manager, customer, "winter_check", "marketing", key="mkt")
    outbox.deliver(marketing.pk, now=NOON)  # suppressed when queued already, or by the worker
    marketing.refresh_from_db()
    assert (marketing.status, marketing.reason) == ("suppressed", "cap")


def test_personalised_marketing_respects_the_pipl_opt_out(manager, customer, sms_account, templates):
    customer.personalised_marketing_opt_out = True
    customer.save()
    plain = _queue(manager, customer, "winter_check", "marketing", key="plain")
    chosen = _queue(manager, customer, "winter_check", "marketing", key="segment", personalised=True)
    outbox.deliver(chosen.pk, now=NOON)
    assert Message.objects.get(pk=chosen.pk).reason == "personalisation"
    assert outbox.deliver(plain.pk, now=NOON).kind == "sent"


def test_retry_with_backoff_then_sent(manager, customer, sms_account, templates):
    sms_account.public_config = {"fail": "retry", "fail_times": "2"}
    sms_account.save()
    message = _queue(manager, customer)
    out = outbox.deliver(message.pk, now=NOON)
    assert out.kind == "retry"
    message.refresh_from_db()
    assert message.status == "queued" and message.not_before > NOON
    assert outbox.deliver(message.pk, now=NOON).kind == "skipped"  # not before its back-off
    assert outbox.deliver(message.pk, now=message.not_before).kind == "retry"
    message.refresh_from_db()
    assert outbox.deliver(message.pk, now=message.not_before).kind == "sent"
    assert len(MemoryClient.sent) == 1
    outcomes = list(MessageAttempt.objects.filter(message=message).order_by("id").values_list("outcome", flat=True))
    assert outcomes == ["retry", "retry", "accepted"]


def test_retries_end_in_failed(manager, customer, sms_account, templates):
    sms_account.public_config = {"fail": "retry"}
    sms_account.save()
    message = _queue(manager, customer)
    for _ in range(outbox.MAX_ATTEMPTS):
        message.refresh_from_db()
        outbox.deliver(message.pk, now=message.not_before)
    message.refresh_from_db()
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS


def test_backoff_grows_with_jitter():
    import random

    rng = random.Random(1)
    delays = [outbox.backoff(n, rng=rng) for n in (1, 2, 3, 4)]
    assert 15 <= delays[0] <= 45 and 120 <= delays[3] <= 360
    assert outbox.backoff(1, retry_after=500) >= 500


def test_blacklist_suppresses_withdraws_marketing_consent_and_never_retries(manager, customer, sms_account, templates):
    sms_account.public_config = {"fail": "blacklist"}
    sms_account.save()
    message = _queue(manager, customer)
    assert outbox.deliver(message.pk).kind == "suppressed"
    message.refresh_from_db()
    assert (message.status, message.reason) == ("suppressed", "blacklist")
    assert Suppression.objects.filter(store_id=customer.store_id, channel="sms", reason="blacklist").count() == 1
    assert not consent_allows(customer=customer, purpose="marketing", channel="sms")
    assert consent_allows(customer=customer, purpose="service", channel="sms")  # only marketing withdrawn
    assert outbox.deliver(message.pk).kind == "skipped"
    # the next marketing message to that number is suppressed before the provider is asked
    again = _queue(manager, customer, "winter_check", "marketing", key="next")
    sms_account.public_config = {}
    sms_account.save()
    outbox.deliver(again.pk, now=NOON)
    assert Message.objects.get(pk=again.pk).reason == "blacklist"
    assert MemoryClient.sent == []


def test_permanent_error_fails_without_retry(manager, customer, sms_account, templates):
    sms_account.public_config = {"fail": "permanent"}
    sms_account.save()
    message = _queue(manager, customer)
    assert outbox.deliver(message.pk).kind == "failed"
    assert Message.objects.get(pk=message.pk).status == "failed"


def test_no_account_for_the_channel_is_suppressed_with_the_reason(manager, customer, templates):
    message = _queue(manager, customer)
    assert outbox.deliver(message.pk).kind == "suppressed"
    assert Message.objects.get(pk=message.pk).reason == "no_account"


def test_bad_input_names_the_field_and_writes_nothing(manager, customer, sms_account, templates):
    for kwargs, field in (
        ({"key": ""}, "idempotency_key"),
        ({"key": "x" * 201}, "idempotency_key"),
        ({"key": "a\x00b"}, "idempotency_key"),
        ({"template_code": "nope"}, "template_code"),
        ({"channel": "pigeon"}, "channel"),
        ({"purpose": "spam"}, "purpose"),
    ):
        with pytest.raises(ValidationError) as exc:
            _queue(manager, customer, **kwargs)
        assert field in exc.value.fields, kwargs
    assert not Message.objects.exists()


def test_roles_send_their_purposes(demo, customer, sms_account, templates):
    agent = actor_for("agent_a1", "a")
    _queue(agent, customer, key="svc")
    with pytest.raises(PermissionDenied):
        _queue(agent, customer, "winter_check", "marketing", key="mkt")
    _queue(actor_for("marketing_a1", "a"), customer, "winter_check", "marketing", key="mkt")
    assert Message.objects.count() == 2


def test_channel_chosen_from_consent_and_address(manager, customer, sms_account, templates):
    message = message_queue(
        actor=manager, store=customer.store_id, purpose="service", channel=None, template_code="repair_done",
        customer=customer, values={"customer_name": "x", "plate": "y"}, idempotency_key="auto",
    )  # fmt: skip
    assert message.channel == "sms"
    assert Consent.objects.filter(customer=customer).count() == 3
