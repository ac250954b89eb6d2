"""Exactly once to the customer, proven with a real worker process killed between the provider's
acceptance and our commit (issue 12, item 4; docs/adr/0013-outbox-exactly-once.md).

The fake provider (a local HTTP server) records the message and then holds its answer back;
the test kills the worker process (SIGKILL: no cleanup, no exception handler) while it waits.
The message is left ``sending`` with the dead worker's claim. Another worker's sweep then
reconciles it: the provider is asked by our own id before anything is resent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from autocrm.customers.services import consent_record
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.messaging.models import ChannelAccount, Message, MessageTemplate
from autocrm.messaging.services import message_queue
from autocrm.messaging.tests.fakes import FakeProvider
from autocrm.tenancy.models import Store

HERE = Path(__file__).resolve().parent
SRC = str(HERE.parents[2])
TESTS = str(HERE.parents[3] / "tests")


def _database_url(tmp_path: Path) -> str:
    """Where the worker processes read and write: the committed test database on PostgreSQL;
    on SQLite (an in-memory test database no other process can open) a file copy of it."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        path = tmp_path / "workers.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
        return f"sqlite:///{path}"
    user = s["USER"] or "postgres"
    auth = f"{user}:{s['PASSWORD']}@" if s.get("PASSWORD") else f"{user}@"
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _spawn(url: str, mode: str, message_id: int) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": os.pathsep.join([TESTS, SRC]),
           "DJANGO_SETTINGS_MODULE": "testsettings"}  # fmt: skip
    return subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(HERE / "worker_proc.py"), mode, str(message_id)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _run(url: str, mode: str, message_id: int) -> dict:
    proc = _spawn(url, mode, message_id)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _message(provider: FakeProvider, *, can_query: bool = True, monkeypatch: pytest.MonkeyPatch) -> Message:
    manager = actor_for("manager_a", "a")
    store = Store.objects.get(code="a")
    ChannelAccount.objects.create(
        store=store, provider="test_http", channel="sms", endpoint=provider.url,
        public_config={} if can_query else {"can_query": "no"},
    )  # fmt: skip
    MessageTemplate.objects.create(
        store=store, code="repair_done", name="Repair done", purpose="service", channel="sms",
        body="{customer_name}您好，您的车已修好。", provider_template_id="1", param_order=["customer_name"],
    )  # fmt: skip
    customer = make_customer(manager, name="刘萍平", mobile="13812345678")
    consent_record(actor=manager, customer=customer, purpose="service", channel="sms")
    # Not handed to this process's (immediate) queue on commit: the test gives it to the worker process.
    monkeypatch.setattr("autocrm.messaging.services._enqueue", lambda *args: None)
    return message_queue(
        actor=manager, store=store, purpose="service", channel="sms", template_code="repair_done",
        customer=customer, values={"customer_name": "刘女士"}, idempotency_key="repair-done:1",
    )  # fmt: skip


def _kill_after_acceptance(url: str, provider: FakeProvider, message: Message) -> None:
    worker = _spawn(url, "deliver", message.pk)
    try:
        assert provider.got_one.wait(120), "the worker never reached the provider"
        os.kill(worker.pid, signal.SIGKILL)  # dies with the provider's answer unread
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL


@pytest.mark.usefixtures("committed_db")
def test_a_worker_killed_after_the_provider_accepted_is_reconciled_not_resent(demo, tmp_path, monkeypatch):
    with FakeProvider(0, hold=True) as provider:
        message = _message(provider, monkeypatch=monkeypatch)
        url = _database_url(tmp_path)
        _kill_after_acceptance(url, provider, message)
        state = _run(url, "state", message.pk)
        assert state["status"] == "sending" and state["claimed_by"] == "doomed-worker"  # the crash window

        result = _run(url, "reconcile", message.pk)
        assert result["sweep"]["reconciled"] == 1 and result["deliver"] == "skipped"
        state = _run(url, "state", message.pk)
        assert state["status"] == "sent" and state["provider_id"] == "S1"
        assert [a[0] for a in state["attempts"]] == ["reconciled"]
        assert provider.count(message.uid) == 1  # exactly one message at the provider


@pytest.mark.usefixtures("committed_db")
def test_a_worker_killed_before_the_provider_saw_it_is_resent_once(demo, tmp_path, monkeypatch):
    with FakeProvider(0, hold=True) as provider:
        message = _message(provider, monkeypatch=monkeypatch)
        url = _database_url(tmp_path)
        _kill_after_acceptance(url, provider, message)
        with provider.lock:  # the provider never kept it (lost on the way, or refused)
            provider.accepted.clear()
        provider.hold = False
        result = _run(url, "reconcile", message.pk)
        # queued again, and delivered once (by the queue the sweep hands it to, or by the next worker)
        assert result["sweep"]["requeued"] == 1
        state = _run(url, "state", message.pk)
        assert state["status"] == "sent"
        assert [a[0] for a in state["attempts"]] == ["reconciled", "accepted"]
        assert provider.count(message.uid) == 1


@pytest.mark.usefixtures("committed_db")
def test_a_provider_that_cannot_be_asked_leaves_it_uncertain_never_doubled(demo, tmp_path, monkeypatch):
    with FakeProvider(0, hold=True) as provider:
        message = _message(provider, can_query=False, monkeypatch=monkeypatch)
        url = _database_url(tmp_path)
        _kill_after_acceptance(url, provider, message)
        provider.hold = False
        result = _run(url, "reconcile", message.pk)
        assert result["sweep"]["uncertain"] == 1 and result["deliver"] == "skipped"
        assert _run(url, "state", message.pk)["status"] == "uncertain"
        assert provider.count(message.uid) == 1


@pytest.mark.usefixtures("committed_db")
def test_a_batch_killed_between_the_provider_answers_and_its_commit_is_reconciled_never_doubled(
    demo, tmp_path, monkeypatch
):
    """The production path (a kick draining batches): the provider accepted and answered every
    message of the batch, the worker wrote the batch's record and dies before the commit."""
    with FakeProvider(0) as provider:
        first = _message(provider, monkeypatch=monkeypatch)
        manager = actor_for("manager_a", "a")
        messages = [first]
        for i in range(2, 5):
            customer = make_customer(manager, name=f"客户{i}", mobile=f"1381234567{i}")
            consent_record(actor=manager, customer=customer, purpose="service", channel="sms")
            messages.append(message_queue(
                actor=manager, store=first.store_id, purpose="service", channel="sms", template_code="repair_done",
                customer=customer, values={"customer_name": "客户"}, idempotency_key=f"repair-done:{i}",
            ))  # fmt: skip
        url = _database_url(tmp_path)
        worker = _spawn(url, "kick-stuck", 0)
        try:
            line = worker.stdout.readline() if worker.stdout else ""
            assert json.loads(line) == {"recording": 4}, worker.stderr.read() if worker.stderr else ""
            os.kill(worker.pid, signal.SIGKILL)  # the batch's transaction dies uncommitted
            worker.wait(30)
        finally:
            if worker.poll() is None:
                worker.kill()
        assert worker.returncode == -signal.SIGKILL
        assert len(provider.accepted) == 4
        for m in messages:
            state = _run(url, "state", m.pk)
            assert state["status"] == "sending" and state["claimed_by"] and state["attempts"] == []

        result = _run(url, "sweep", 0)
        assert result["sweep"]["reconciled"] == 4 and result["drain"] == {}
        serials = {a["id"]: a["serial"] for a in provider.accepted}
        for m in messages:
            state = _run(url, "state", m.pk)
            assert state["status"] == "sent" and state["provider_id"] == serials[m.uid]
            assert [a[0] for a in state["attempts"]] == ["reconciled"]
            assert provider.count(m.uid) == 1  # exactly one copy of each at the provider
        assert len(provider.accepted) == 4
