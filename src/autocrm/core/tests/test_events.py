"""core.events: delivered after commit only, never for a rollback, in order, each subscriber's
failure contained, worker subscribers run through the Huey task."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from django.db import transaction

from autocrm.core import events
from autocrm.tenancy.models import Organization


@dataclass(frozen=True)
class Happened:
    thing_id: int
    note: str = ""


HAPPENED = events.define_event("testing.happened", Happened, "A thing happened (tests).")
OTHER = events.define_event("testing.other", Happened, "Another thing happened (tests).")


@pytest.fixture
def heard():
    """Subscribe test handlers and take them away again; returns what they heard, in order."""
    log: list[tuple[str, str, int]] = []
    added: list[tuple[str, str]] = []

    def add(name: str, label: str, *, fail: bool = False, worker: bool = False, order: int = 100) -> None:
        def handler(event: events.Event) -> None:
            log.append((label, event.name, event.payload.thing_id))
            if fail:
                raise RuntimeError(f"{label} broke")

        key = f"test.{label}"
        events.subscribe(name, handler, key=key, worker=worker, order=order)
        added.append((name, key))

    yield log, add
    for name, key in added:
        events.unsubscribe(name, key)


def _write(name: str = "总部") -> Organization:
    return Organization.objects.create(name=name, code=name)


@pytest.mark.django_db
def test_delivered_after_the_commit_not_before(heard):
    log, add = heard
    add(HAPPENED, "a")
    with events.capture() as captured:
        with transaction.atomic():
            org = _write()
            events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=org.pk))
            assert log == []  # still inside the writer's transaction
        assert log == []  # the test's own transaction has not "committed" yet
    assert log == [("a", HAPPENED, org.pk)]
    assert captured.names() == [HAPPENED]
    assert captured.of(HAPPENED) == [Happened(thing_id=org.pk)]


@pytest.mark.django_db
def test_nothing_delivered_for_a_rolled_back_write(heard):
    log, add = heard
    add(HAPPENED, "a")
    with events.capture() as captured:
        with pytest.raises(ValueError), transaction.atomic():
            events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=1))
            raise ValueError("the service refused")
        with transaction.atomic():
            events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=2))
    assert log == [("a", HAPPENED, 2)]
    assert captured.names(delivered=False) == [HAPPENED, HAPPENED]
    assert [p.thing_id for p in captured.of(HAPPENED)] == [2]


@pytest.mark.django_db(transaction=True)
def test_real_commit_delivers_real_rollback_does_not(heard, committed_db):
    """Outside pytest's wrapping transaction: Django's own on_commit, nothing simulated."""
    log, add = heard
    add(HAPPENED, "a")
    with pytest.raises(RuntimeError), transaction.atomic():
        org = _write("回滚")
        events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=org.pk))
        raise RuntimeError
    assert log == []
    assert not Organization.objects.filter(code="回滚").exists()
    with transaction.atomic():
        org = _write("提交")
        events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=org.pk))
        assert log == []
    assert log == [("a", HAPPENED, org.pk)]
    Organization.objects.filter(pk=org.pk).delete()


@pytest.mark.django_db
def test_a_failing_subscriber_is_logged_and_the_others_still_run(heard, caplog):
    log, add = heard
    add(HAPPENED, "first", order=10)
    add(HAPPENED, "broken", fail=True, order=20)
    add(HAPPENED, "last", order=30)
    with caplog.at_level(logging.ERROR, logger="autocrm.events"), events.capture(), transaction.atomic():
        org = _write()
        events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=org.pk))
    assert [label for label, _n, _i in log] == ["first", "broken", "last"]
    assert Organization.objects.filter(pk=org.pk).exists()  # the writer is unaffected
    (record,) = [r for r in caplog.records if r.name == "autocrm.events"]
    assert HAPPENED in record.getMessage() and "test.broken" in record.getMessage()
    assert record.exc_info and "broken" in str(record.exc_info[1])


@pytest.mark.django_db
def test_delivery_keeps_the_order_of_emission_and_of_subscribers(heard):
    log, add = heard
    add(HAPPENED, "z-late", order=50)
    add(HAPPENED, "a-early", order=5)
    add(OTHER, "other")
    with events.capture(), transaction.atomic():
        events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=1))
        events.emit(OTHER, store_id=None, payload=Happened(thing_id=2))
        events.emit(HAPPENED, store_id=None, payload=Happened(thing_id=3))
    assert log == [
        ("a-early", HAPPENED, 1), ("z-late", HAPPENED, 1), ("other", OTHER, 2),
        ("a-early", HAPPENED, 3), ("z-late", HAPPENED, 3),
    ]  # fmt: skip


@pytest.mark.django_db
def test_worker_subscriber_runs_through_the_queue_with_a_rebuilt_payload(heard, monkeypatch, caplog):
    log, add = heard
    add(HAPPENED, "inline")
    add(HAPPENED, "worker", worker=True)
    add(HAPPENED, "worker-broken", worker=True, fail=True)
    queued: list[tuple] = []
    task = events.event_deliver_task

    def spy(*args):
        queued.append(args)
        return task(*args)  # the tests' Huey is immediate: runs the task now, in-process

    monkeypatch.setattr(events, "event_deliver_task", spy)
    original = Happened(thing_id=7, note="见")
    with caplog.at_level(logging.ERROR, logger="autocrm.events"), events.capture(), transaction.atomic():
        events.emit(HAPPENED, store_id=3, payload=original)
        assert queued == []  # nothing queued before the commit
    # Only plain values cross the queue: the subscriber key, the name, the store, the payload's fields.
    assert [q[:4] for q in queued] == [
        ("test.worker", HAPPENED, 3, {"thing_id": 7, "note": "见"}),
        ("test.worker-broken", HAPPENED, 3, {"thing_id": 7, "note": "见"}),
    ]
    assert ("worker", HAPPENED, 7) in log and ("inline", HAPPENED, 7) in log
    assert any("test.worker-broken" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_worker_task_rebuilds_the_event():
    seen = []
    events.subscribe(HAPPENED, seen.append, key="test.rebuild", worker=True)
    try:
        events._deliver_in_worker("test.rebuild", HAPPENED, 4, {"thing_id": 9, "note": ""}, 12, None)
    finally:
        events.unsubscribe(HAPPENED, "test.rebuild")
    (event,) = seen
    assert (event.name, event.store_id, event.payload, event.actor_id) == (HAPPENED, 4, Happened(thing_id=9), 12)


def test_unknown_events_and_wrong_payloads_are_refused():
    with pytest.raises(LookupError):
        events.emit("testing.never_declared", store_id=None, payload=Happened(thing_id=1))
    with pytest.raises(TypeError):
        events.emit(HAPPENED, store_id=None, payload={"thing_id": 1})
    with pytest.raises(TypeError):
        events.define_event("testing.bad", dict, "not a dataclass")


def test_decorator_form_and_resubscribing_replaces():
    @events.subscribe(OTHER, key="test.deco")
    def first(event):
        pass

    @events.subscribe(OTHER, key="test.deco")
    def second(event):
        pass

    try:
        assert [s.handler for s in events.subscribers(OTHER) if s.key == "test.deco"] == [second]
    finally:
        events.unsubscribe(OTHER, "test.deco")


def test_every_declared_event_is_documented():
    from django.utils.translation import gettext

    for etype in events.event_types():
        assert "." in etype.name, etype.name
        assert gettext(etype.description).strip(), etype.name
    names = {e.name for e in events.event_types()}
    for expected in ("customers.created", "customers.updated", "customers.merged", "customers.merge_undone",
                     "imports.committed", "vehicles.created", "vehicles.ownership_transferred",
                     "vehicles.odometer_recorded"):  # fmt: skip
        assert expected in names
