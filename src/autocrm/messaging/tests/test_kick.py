"""Batch delivery as the production path (docs/adr/0022-batch-delivery.md): a committed message
wakes the delivery loop with a coalesced kick, the kick's worker drains every due message in
batches, what is put back for later gets a kick at its time, the sweep is the safety net.

Here the queue is not immediate (as in production): the enqueued kicks are recorded instead of
handed to a consumer, and the test runs them as the consumer would (``call_local``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

from autocrm.customers.services import consent_record
from autocrm.customers.tests.factories import make_customer
from autocrm.messaging import outbox, tasks
from autocrm.messaging.models import ChannelAccount, Message
from autocrm.messaging.services import message_queue
from autocrm.messaging.tests.fakes import MemoryClient


class Queue:
    """Stands in for ``message_kick_task`` in a queue that is not immediate."""

    def __init__(self) -> None:
        self.now: list[Any] = []
        self.scheduled: list[dt.datetime] = []
        self.real = tasks.message_kick_task

    def __call__(self, ids: Any = None) -> None:
        self.now.append(ids)

    def schedule(self, args: Any = (), *, eta: dt.datetime) -> None:
        self.scheduled.append(eta)

    def run_one(self) -> dict[str, Any]:
        """The consumer takes the oldest pending kick."""
        ids = self.now.pop(0)
        return self.real.call_local(ids)


@pytest.fixture
def queue(monkeypatch):
    caches["shared"].clear()
    q = Queue()
    monkeypatch.setattr(tasks, "queue_is_immediate", lambda: False)
    monkeypatch.setattr(tasks, "message_kick_task", q)
    yield q
    caches["shared"].clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` — the block's on-commit callbacks run at its end, as at a commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _customers(manager, n: int, start: int = 0) -> list:
    out = []
    for i in range(start, start + n):
        c = make_customer(manager, name=f"客户{i}", mobile=f"1390000{i:04d}")
        consent_record(actor=manager, customer=c, purpose="service", channel="sms", source="test")
        out.append(c)
    return out


def _queue(manager, customer, key: str) -> Message:
    return message_queue(
        actor=manager, store=customer.store_id, purpose="service", channel="sms", template_code="repair_done",
        customer=customer, values={"customer_name": customer.name, "plate": "沪A12345"}, idempotency_key=key,
    )  # fmt: skip


def test_messages_committed_together_wake_the_loop_once_and_it_delivers_them_all(
    manager, templates, sms_account, queue, committed
):
    customers = _customers(manager, 5)
    with committed():
        with transaction.atomic():
            for i, c in enumerate(customers):
                _queue(manager, c, f"repair:{i}")
        assert queue.now == []  # nothing before the commit
    assert queue.now == [None]  # one kick, naming nobody: the loop takes whatever is due
    assert Message.objects.filter(status="queued").count() == 5

    result = queue.run_one()
    assert result["sent"] == 5 and result["batches"] == 1 and result["more"] is False
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert len(MemoryClient.sent) == 5

    # The kick started: the next message needs (and gets) a new one.
    with committed():
        _queue(manager, _customers(manager, 1, start=10)[0], "repair:late")
    assert queue.now == [None]
    assert queue.run_one()["sent"] == 1


def test_a_pending_kick_is_not_doubled_by_later_commits(manager, templates, sms_account, queue, committed):
    for i, c in enumerate(_customers(manager, 3)):
        with committed():
            _queue(manager, c, f"repair:{i}")  # three transactions, three commits
    assert queue.now == [None]
    assert queue.run_one()["sent"] == 3


def test_a_full_batch_wakes_one_more_worker(manager, templates, sms_account, queue, monkeypatch, committed):
    monkeypatch.setattr(outbox.drain, "__kwdefaults__", {**outbox.drain.__kwdefaults__, "limit": 2})
    with committed():
        for i, c in enumerate(_customers(manager, 5)):
            _queue(manager, c, f"repair:{i}")
    result = queue.run_one()
    assert result["sent"] == 5 and result["batches"] == 3
    assert queue.now == [None]  # the second worker's kick (it will find nothing left)
    assert queue.run_one() == {"batches": 0, "more": False}


def test_a_drain_out_of_time_kicks_again_at_the_back_of_the_queue(
    manager, templates, sms_account, queue, monkeypatch, committed
):
    monkeypatch.setattr(outbox.drain, "__kwdefaults__", {**outbox.drain.__kwdefaults__, "limit": 2, "max_seconds": 0})
    with committed():
        for i, c in enumerate(_customers(manager, 3)):
            _queue(manager, c, f"repair:{i}")
    first = queue.run_one()
    assert first["sent"] == 2 and first["more"] is True
    assert queue.now == [None, None]  # the busy worker's wake-up and its own next turn
    last = queue.run_one()
    assert last["sent"] == 1 and last["more"] is False  # a batch not full: nothing more was due
    assert Message.objects.filter(status="sent").count() == 3


def test_a_retry_keeps_its_back_off_and_gets_a_kick_at_its_time(manager, templates, store_a, queue, committed):
    ChannelAccount.objects.create(
        store=store_a, provider="test_memory", channel="sms", name="flaky",
        public_config={"fail": "retry", "fail_times": "1"},
    )  # fmt: skip
    with committed():
        message = _queue(manager, _customers(manager, 1)[0], "repair:flaky")
    assert queue.run_one()["retry"] == 1
    message.refresh_from_db()
    assert message.status == "queued" and message.not_before > timezone.now() + dt.timedelta(seconds=10)
    # one kick scheduled, just after the message is due again (never before)
    assert len(queue.scheduled) == 1
    assert message.not_before <= queue.scheduled[0] <= message.not_before + dt.timedelta(seconds=1)
    assert queue.now == []
    assert outbox.drain().counts == {}  # not due yet: the loop leaves it alone


def test_a_message_for_later_gets_a_scheduled_kick_not_an_immediate_one(manager, templates, sms_account, queue):
    from autocrm.messaging.services import _enqueue

    at = timezone.now() + dt.timedelta(hours=2)
    _enqueue(123, at)
    _enqueue(124, at)  # the same second: one kick
    assert queue.now == [] and len(queue.scheduled) == 1


def test_the_sweep_kicks_once_for_every_due_message_even_with_a_kick_pending(
    manager, templates, sms_account, queue, committed
):
    with committed():
        for i, c in enumerate(_customers(manager, 4)):
            _queue(manager, c, f"repair:{i}")
    queue.now.clear()  # the kick was lost (a flushed queue); its mark is still there
    later = timezone.now() + dt.timedelta(minutes=2)
    assert outbox.sweep(now=later)["queued"] == 4
    assert queue.now == [None]
    assert queue.run_one()["sent"] == 4


def test_immediate_mode_delivers_exactly_the_committed_message_at_commit(
    manager, templates, sms_account, monkeypatch, committed
):
    first, second = _customers(manager, 2)
    monkeypatch.setattr("autocrm.messaging.services._enqueue", lambda *args: None)
    with committed():
        waiting = _queue(manager, first, "repair:waiting")  # its kick is lost
    monkeypatch.undo()
    with committed():
        message = _queue(manager, second, "repair:now")
    message.refresh_from_db()
    waiting.refresh_from_db()
    assert message.status == "sent"  # delivered before message_queue's caller got control back
    assert waiting.status == "queued"  # not this commit's message: the sweep's to take


def test_an_unreachable_queue_does_not_fail_the_commit(manager, templates, sms_account, queue, committed, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks, "message_kick_task", down)
    with committed():
        message = _queue(manager, _customers(manager, 1)[0], "repair:down")  # no exception
    message.refresh_from_db()
    assert message.status == "queued"
