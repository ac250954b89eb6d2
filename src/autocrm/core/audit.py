"""Audit: who did what, when, to which record, with before and after.

Core holds the mechanism; the concrete append-only table lives in the ``audit`` app and is
reached through the app registry, so core imports no app. The current actor and request id
travel in a context variable set by the request middleware, the API auth and tasks.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import apps
from django.db import models

from .extensions import Registry, registry

if TYPE_CHECKING:
    from .actor import Actor

_current_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("autocrm_actor", default=None)
_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("autocrm_request_id", default=None)


# Events that must survive a rollback (a 403 raised inside a service's transaction takes its
# own audit line down with it). The request middleware opens the list and, when the request
# ends, writes again any of them that a rollback removed.
_durable: contextvars.ContextVar[list[tuple[int, dict[str, Any]]] | None] = contextvars.ContextVar(
    "autocrm_durable_events", default=None
)


def current_actor() -> Actor | None:
    return _current_actor.get()


def current_request_id() -> str | None:
    return _current_request_id.get()


def set_request_id(request_id: str | None) -> contextvars.Token[str | None]:
    return _current_request_id.set(request_id)


def set_actor(actor: Actor | None) -> contextvars.Token[Actor | None]:
    return _current_actor.set(actor)


@contextlib.contextmanager
def acting_as(actor: Actor | None) -> Iterator[None]:
    """Attribute every change made inside the block to ``actor`` (services, tasks, commands)."""
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


def _object_store_ids(obj: models.Model | None) -> tuple[int | None, int | None]:
    if obj is None:
        return None, None
    store_field = getattr(obj, "scope_store_field", None)
    if store_field == "pk":  # the Store itself
        return obj.pk, getattr(obj, "organization_id", None)
    store_id = getattr(obj, "store_id", None)
    org_id = getattr(obj, "organization_id", None)
    return store_id, org_id


def record(
    action: str,
    *,
    obj: models.Model | None = None,
    actor: Actor | None = None,
    changes: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    store_id: int | None = None,
    organization_id: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
) -> Any:
    """Append one audit event. Never raises for a missing actor (system work is recorded too)."""
    actor = actor or current_actor()
    obj_store, obj_org = _object_store_ids(obj)
    event_model = apps.get_model("audit", "AuditEvent")
    user_id = actor.user_id if actor else None
    from .bulk import insert_one  # one cached INSERT text: the ORM compiled one for every event

    return insert_one(
        event_model,
        {
            "action": action,
            "actor_id": user_id,
            "actor_label": (actor.label if actor else "system")[:150],
            "store_id": store_id if store_id is not None else obj_store if obj_store is not None else None,
            "organization_id": organization_id or obj_org or (actor.organization_id if actor else None),
            "object_type": object_type or (obj._meta.label_lower if obj is not None else ""),
            "object_id": object_id or (str(obj.pk) if obj is not None and obj.pk is not None else ""),
            "object_repr": (object_repr or (str(obj) if obj is not None else ""))[:200],
            "changes": changes or {},
            "extra": extra or {},
            "request_id": (actor.request_id if actor and actor.request_id else current_request_id()) or "",
            "ip": (actor.ip if actor else None),
        },
    )


def record_durable(action: str, **kwargs: Any) -> Any:
    """Like :func:`record`, for events that must outlive a rolled-back transaction (denied
    actions). Written at once; if a rollback removes the row, the end of the request writes it
    again. Outside a request (tasks, commands) it is a plain :func:`record`."""
    from django.db import connection

    if action == "authz.denied":
        _mark_denied(ANY_DENIAL)
    event = record(action, **kwargs)
    pending = _durable.get()
    if pending is not None and connection.in_atomic_block:
        kwargs = {**kwargs, "actor": kwargs.get("actor") or current_actor()}
        pending.append((event.pk, {"action": action, **kwargs}))
    return event


# The denials already recorded in this request: (object type, action) of model-level ones, and
# "" once any denial was recorded, so the 403 handlers add one only when nothing else did.
_denials: contextvars.ContextVar[set[tuple[str, str]] | None] = contextvars.ContextVar("autocrm_denials", default=None)
ANY_DENIAL = ("", "")


def _mark_denied(key: tuple[str, str]) -> bool:
    """Remember ``key`` for this request; False when it was already there."""
    seen = _denials.get()
    if seen is None:
        return True  # outside a request: no memory, record every time
    if key in seen:
        return False
    seen.update({key, ANY_DENIAL})
    return True


def denied(*, actor: Actor, obj: models.Model, action: str) -> Any:
    """An object-level denial: the row is visible but the role may not ``action`` it."""
    return record_durable("authz.denied", obj=obj, actor=actor, extra={"attempted": action, "role": actor.role})


def denied_once(*, actor: Actor, object_type: str, action: str) -> Any:
    """A model-level denial (the role lacks ``action`` on the model altogether): recorded once per
    request per model and action, however many times the code asks."""
    if not _mark_denied((object_type, action)):
        return None
    return record_durable(
        "authz.denied",
        actor=actor,
        store_id=actor.store_id,
        object_type=object_type,
        extra={"attempted": action, "role": actor.role, "level": "model"},
    )


def denied_request(*, actor: Actor | None, path: str, method: str | None) -> Any:
    """A 403 answered without any recorded denial (a view that checked ``can`` and refused):
    record one for the request, so no refusal goes unseen. (``method`` is ``HttpRequest.method``:
    None only for a request built by hand.)"""
    seen = _denials.get()
    if seen is not None and ANY_DENIAL in seen:
        return None
    store_id = actor.store_id if actor is not None else None
    role = actor.role if actor is not None else None
    return record_durable(
        "authz.denied", actor=actor, store_id=store_id, extra={"path": path[:300], "method": method, "role": role}
    )


@contextlib.contextmanager
def durable_scope() -> Iterator[None]:
    """Around one request: collect durable events, then restore those a rollback removed."""
    token = _durable.set([])
    denials = _denials.set(set())
    try:
        yield
    finally:
        _denials.reset(denials)
        pending = _durable.get() or []
        _durable.reset(token)
        if pending:
            event_model = apps.get_model("audit", "AuditEvent")
            present = set(event_model.objects.filter(pk__in=[pk for pk, _ in pending]).values_list("pk", flat=True))
            for pk, kwargs in pending:
                if pk not in present:
                    action = kwargs.pop("action")
                    record(action, **kwargs)


# --- how the trail reads ------------------------------------------------------------------------
# The table keeps machine codes (``customer.merge``, field names, ids); people read labels. Each app
# registers, in its ``AppConfig.ready``, a label for every action it records and, for its models,
# labels of fields without a ``verbose_name``, fields not worth showing, value formatters and the
# page a record opens on. The ``audit`` app reads these registries; no app imports it for that.


@dataclass(frozen=True)
class Fact:
    """One line of an event's summary: ``label: value``, the value linked when ``url`` is set."""

    label: Any
    value: Any
    url: str | None = None


class Names(Protocol):
    """Names of records the reader may see, resolved in bulk before summaries are built."""

    def known(self, object_type: str, pk: Any) -> bool: ...

    def name(self, object_type: str, pk: Any) -> str: ...

    def url(self, object_type: str, pk: Any) -> str | None: ...


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: Any  # lazy translated
    noise: bool = False  # routine (sign-ins, denials): left out of the home feed unless asked for
    # (object_type, pk) of the records the summary names, so they are resolved in one query per model
    refs: Callable[[Any], Iterable[tuple[str, Any]]] | None = None
    summary: Callable[[Any, Names], list[Fact]] | None = None  # (event, names) → facts from ``extra``


@dataclass(frozen=True)
class AuditModel:
    object_type: str  # model label, e.g. "customers.customer"
    labels: Mapping[str, Any] = field(default_factory=dict)  # attname → label where verbose_name is missing
    hidden: frozenset[str] = frozenset()  # attnames derived from others (pinyin, last four digits…)
    formatters: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)  # attname → value → text
    url: Callable[[Any], str] | None = None  # pk → the page of the record


ACTIONS: Registry[AuditAction] = registry("audit.actions")
MODELS: Registry[AuditModel] = registry("audit.models")


def register_action(
    code: str,
    label: Any,
    *,
    noise: bool = False,
    refs: Callable[[Any], Iterable[tuple[str, Any]]] | None = None,
    summary: Callable[[Any, Names], list[Fact]] | None = None,
) -> None:
    """Name an action code for people (zh-Hans and English through gettext_lazy)."""
    ACTIONS.register(AuditAction(code, label, noise, refs, summary), key=code)


def register_model(
    object_type: str,
    *,
    labels: Mapping[str, Any] | None = None,
    hidden: Iterable[str] = (),
    formatters: Mapping[str, Callable[[Any], Any]] | None = None,
    url: Callable[[Any], str] | None = None,
) -> None:
    """How the trail shows one model's records and fields (see :class:`AuditModel`)."""
    MODELS.register(
        AuditModel(object_type, dict(labels or {}), frozenset(hidden), dict(formatters or {}), url), key=object_type
    )


def action_label(code: str) -> Any:
    entry = ACTIONS.get(code)
    return entry.label if entry is not None else code


def noise_actions() -> list[str]:
    return [a.code for a in ACTIONS.entries() if a.noise]
