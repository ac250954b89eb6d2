"""Events between layers: a lower app announces what happened, higher apps react.

A service emits inside its transaction; subscribers hear of it only after the transaction
commits (``transaction.on_commit``), so a rolled-back write announces nothing::

    # customers/events.py — the owner declares its events and their payloads
    CUSTOMER_MERGED = define_event("customers.merged", CustomerMerged, _("…"))

    # customers/merging.py — inside the service's transaction
    emit(CUSTOMER_MERGED, store_id=survivor.store_id, payload=CustomerMerged(...))

    # care/apps.py — a higher app subscribes in AppConfig.ready
    subscribe(CUSTOMER_MERGED, on_merged)                 # inline, right after the commit
    subscribe(VEHICLE_CREATED, plan_first_service, worker=True)   # queued to the Huey worker

Guarantees:

* **after commit only**: nothing is delivered for a rolled-back transaction (or savepoint);
* **in order**: events are delivered in the order they were emitted, and each event to its
  subscribers in (order, key) order;
* **isolated**: a subscriber that raises is logged with the event's name and the exception; the
  other subscribers still run and the writer, already committed, is unaffected;
* **worker delivery**: a ``worker=True`` subscriber is queued on commit as a Huey task that
  takes the event's name, store id and payload (ids and plain values), rebuilds the payload and
  calls the subscriber in the worker, with Huey's retries.

Payloads are frozen dataclasses of plain values (ids, strings, numbers, dates, tuples of them): they
cross the queue, and a subscriber re-reads the rows it needs, in its own scope.

In tests :func:`capture` records what was emitted and runs the on-commit callbacks at the end
of the block, so delivery is synchronous and observable inside pytest's test transaction.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from .extensions import Registry, registry

log = logging.getLogger("autocrm.events")

Handler = Callable[["Event"], Any]


@dataclass(frozen=True)
class EventType:
    """A documented event: its name (``<app>.<past participle>``), payload class and meaning."""

    name: str
    payload: type
    description: Any  # lazy translated text, shown in the event catalogue


@dataclass(frozen=True)
class Event:
    """One occurrence of an event, as subscribers receive it."""

    name: str
    store_id: int | None
    payload: Any
    actor_id: int | None = None
    at: dt.datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class Subscriber:
    event: str
    key: str
    handler: Handler
    worker: bool = False


EVENT_TYPES: Registry[EventType] = registry("events.types")
SUBSCRIBERS: Registry[Subscriber] = registry("events.subscribers")


def define_event(name: str, payload: type, description: Any) -> str:
    """Declare an event (called once, at import, by the app that owns it); returns ``name`` so
    the declaration is the constant: ``CUSTOMER_CREATED = define_event("customers.created", …)``."""
    if not dataclasses.is_dataclass(payload):
        raise TypeError(f"the payload of {name} must be a dataclass")
    EVENT_TYPES.register(EventType(name, payload, description), key=name)
    return name


def event_types() -> list[EventType]:
    """Every declared event, by name (for the catalogue and the conventions test)."""
    return EVENT_TYPES.entries()


def _key(handler: Handler) -> str:
    return f"{handler.__module__}.{getattr(handler, '__qualname__', repr(handler))}"


def subscribe(
    name: str, handler: Handler | None = None, *, worker: bool = False, key: str | None = None, order: int = 100
) -> Any:
    """Call ``handler(event)`` after each committed ``name`` event (inline, or in the Huey worker
    with ``worker=True``). Usable as a decorator: ``@subscribe(VEHICLE_CREATED)``. Subscribing
    the same key again replaces the entry, so a reloaded app does not hear an event twice."""

    def register(fn: Handler) -> Handler:
        sub = Subscriber(event=name, key=key or _key(fn), handler=fn, worker=worker)
        SUBSCRIBERS.register(sub, key=sub.key, group=name, order=order)
        return fn

    return register(handler) if handler is not None else register


def unsubscribe(name: str, key: str) -> None:
    SUBSCRIBERS.unregister(key, group=name)


def subscribers(name: str) -> list[Subscriber]:
    return SUBSCRIBERS.entries(name)


# --- emitting -----------------------------------------------------------------------------------


@dataclass
class Captured:
    """What a :func:`capture` block saw: events as emitted, and as delivered after commit."""

    emitted: list[Event] = field(default_factory=list)
    delivered: list[Event] = field(default_factory=list)

    def names(self, *, delivered: bool = True) -> list[str]:
        return [e.name for e in (self.delivered if delivered else self.emitted)]

    def of(self, name: str) -> list[Any]:
        """The payloads of the delivered ``name`` events, in order."""
        return [e.payload for e in self.delivered if e.name == name]


# Open capture() blocks (tests).
_captures: list[Captured] = []


def emit(
    name: str, *, store_id: int | None, payload: Any, actor_id: int | None = None, using: str | None = None
) -> Event:
    """Announce ``name`` with ``payload`` (an instance of the event's declared payload class).
    Delivered after the current transaction commits (at once outside a transaction); nothing is
    delivered if it rolls back. The actor defaults to the one the audit trail is attributing to."""
    etype = EVENT_TYPES.get(name)
    if etype is None:
        raise LookupError(f"unknown event {name!r}: declare it with define_event()")
    if not isinstance(payload, etype.payload):
        raise TypeError(f"{name} takes a {etype.payload.__name__} payload, not {type(payload).__name__}")
    if actor_id is None:
        from .audit import current_actor

        actor = current_actor()
        actor_id = getattr(actor, "user_id", None)
    event = Event(name=name, store_id=store_id, payload=payload, actor_id=actor_id)
    for captured in _captures:
        captured.emitted.append(event)
    transaction.on_commit(lambda: deliver(event), using=using or DEFAULT_DB_ALIAS)
    return event


def deliver(event: Event) -> None:
    """Run the event's subscribers now: inline ones called, worker ones queued. Each failure is
    logged and contained. Called on commit by :func:`emit`; tests may call it directly."""
    for captured in _captures:
        captured.delivered.append(event)
    for sub in subscribers(event.name):
        try:
            if sub.worker:
                event_deliver_task(sub.key, event.name, event.store_id, dataclasses.asdict(event.payload),
                                   event.actor_id, event.at)  # fmt: skip
            else:
                sub.handler(event)
        except Exception:
            log.exception("event %s: subscriber %s failed", event.name, sub.key)


def _deliver_in_worker(
    key: str, name: str, store_id: int | None, data: dict[str, Any], actor_id: int | None, at: dt.datetime
) -> None:
    """The worker's side: rebuild the event from plain values and call the one subscriber."""
    sub = SUBSCRIBERS.get(key, group=name)
    etype = EVENT_TYPES.get(name)
    if sub is None or etype is None:
        log.warning("event %s: subscriber %s is no longer registered; dropped", name, key)
        return
    event = Event(name=name, store_id=store_id, payload=etype.payload(**data), actor_id=actor_id, at=at)
    try:
        sub.handler(event)
    except Exception:
        log.exception("event %s: subscriber %s failed in the worker", name, key)
        raise  # Huey retries it


def _make_task() -> Any:
    from huey.contrib.djhuey import db_task

    return db_task(retries=3, retry_delay=60, name="autocrm.core.events.deliver")(_deliver_in_worker)


event_deliver_task = _make_task()


# --- tests --------------------------------------------------------------------------------------


@contextlib.contextmanager
def capture(*, execute: bool = True, using: str = DEFAULT_DB_ALIAS) -> Iterator[Captured]:
    """Record every event emitted inside the block; with ``execute`` (the default) run the
    block's on-commit callbacks when it ends — delivery included — as if it had committed (the
    test's own transaction never does). Events of a rolled-back inner ``atomic`` block are
    recorded as emitted but never delivered."""
    from django.test import TestCase

    captured = Captured()
    _captures.append(captured)
    try:
        with TestCase.captureOnCommitCallbacks(using=using, execute=execute):
            yield captured
    finally:
        _captures.remove(captured)
