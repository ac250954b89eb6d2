"""The audit trail as a person reads it: labels instead of codes, names instead of ids, summaries
instead of JSON, times in the store's time zone.

Labels come from the registries of ``core.audit`` (actions, per-model field labels and
formatters) that every app fills in its ``AppConfig.ready``, and from the models' own
``verbose_name``. Every record an event names — a foreign key in its changes, the actor, the
records an action's summary mentions — is resolved in one query per model, through the reader's
scope: what the reader may not see stays an id.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal, cast

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext

from autocrm.core import audit as core_audit
from autocrm.core.audit import Fact
from autocrm.core.models import TrackedModel

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@functools.cache
def model_for(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type) if object_type else None
    except (LookupError, ValueError):
        return None


@functools.cache
def _fields(model: type[models.Model] | None) -> dict[str, models.Field]:
    if model is None:
        return {}
    return {f.attname: f for f in model._meta.concrete_fields}


def model_label(model: type[models.Model] | None, object_type: str = "") -> str:
    """A model's name for people. The automatic table behind a many-to-many field is named by
    its owner and the field (客户标签, "Customer tags"), not Django's "Customer-tag relationship"."""
    if model is None:
        return object_type
    # cast: django-stubs types Options.auto_created as a bool; Django keeps the owner model there
    # for the automatic table of a many-to-many field (False for any other model).
    owner = cast("type[models.Model] | Literal[False]", model._meta.auto_created)
    if owner:
        for m2m in owner._meta.many_to_many:
            if m2m.remote_field.through is model:
                return gettext("%(model)s %(field)s") % {
                    "model": capfirst(owner._meta.verbose_name),
                    "field": m2m.verbose_name,
                }
    return str(capfirst(model._meta.verbose_name))


def type_label(object_type: str) -> str:
    return model_label(model_for(object_type), object_type)


def _spec(model: type[models.Model] | None) -> core_audit.AuditModel | None:
    return core_audit.MODELS.get(model._meta.label_lower) if model is not None else None


def field_label(model: type[models.Model] | None, name: str) -> str:
    """The registered label, else the field's own ``verbose_name``, else — for a foreign key
    without one — the name of the model it points to."""
    spec = _spec(model)
    if spec is not None and name in spec.labels:
        return str(capfirst(spec.labels[name]))
    field = _fields(model).get(name)
    if field is None:
        return name
    if isinstance(field.verbose_name, Promise):
        return str(capfirst(field.verbose_name))
    if field.is_relation and isinstance(field.related_model, type):  # resolved: a model, not "self"
        return model_label(field.related_model)
    return str(capfirst(field.verbose_name))


def field_hidden(model: type[models.Model] | None, name: str) -> bool:
    """Derived columns (pinyin, last four digits, a copied organization id — ``editable=False``)
    and the primary key are left out: the fields they come from are shown."""
    spec = _spec(model)
    if spec is not None and name in spec.hidden:
        return True
    field = _fields(model).get(name)
    if field is None:
        return False
    if spec is not None and name in spec.labels:
        return False
    return field.primary_key or not field.editable


def local_time(value: dt.datetime | str | None) -> str | None:
    """An aware datetime (or its recorded text) in the store's time zone."""
    if isinstance(value, str):
        parsed = parse_datetime(value.replace(" ", "T", 1))
        if parsed is None:
            return value
        value = parsed
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return timezone.localtime(value).strftime(DATETIME_FORMAT)


def time_zone_label() -> str:
    """What the time column's header calls the time zone the times are shown in."""
    name = timezone.get_current_timezone_name()
    if name in ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"):
        return gettext("Beijing time")
    offset = timezone.localtime().strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else name


# --- names in bulk, in the reader's scope -------------------------------------------------------


def visible(model: type[models.Model], actor: Any) -> models.QuerySet[Any]:
    """The rows of ``model`` whose names ``actor`` may read: store-scoped models through
    ``for_actor``; users and the organization of the reader's own organization; the shared
    catalogues (unscoped by convention, e.g. vehicle models) as they are."""
    manager = model._default_manager
    if hasattr(manager, "for_actor"):
        from autocrm.core.permissions import can

        if not can(actor, "view", model):  # asked first: naming a record is not an attempt to read it
            return manager.none()
        return manager.for_actor(actor, "view")
    if model._meta.label_lower == settings.AUTH_USER_MODEL.lower():
        return manager.filter(organization_id=getattr(actor, "organization_id", None))
    if model._meta.label_lower == "tenancy.organization":
        return manager.filter(pk=getattr(actor, "organization_id", None))
    return manager.all()


# Foreign keys that models' ``__str__`` reads, loaded with the row instead of one query each.
_NAMED_BY = frozenset({"user", "customer", "vehicle", "series", "brand", "survivor", "merged", "household"})


class Names:
    """``(object_type, pk)`` → the record's name and page, for the records the reader may see."""

    def __init__(self, actor: Any, wanted: dict[str, set[Any]]) -> None:
        self._names: dict[tuple[str, str], str] = {}
        self._urls: dict[tuple[str, str], str | None] = {}
        for object_type, pks in wanted.items():
            model = model_for(object_type)
            if model is None or not pks:
                continue
            keys = set()
            for pk in pks:
                # A recorded id of the wrong shape names nothing.
                with contextlib.suppress(DjangoValidationError, TypeError, ValueError):
                    keys.add(model._meta.pk.to_python(pk))
            spec = _spec(model)
            # A record's name may come from the rows it points to (an ownership: vehicle · owner).
            related = [f.name for f in model._meta.concrete_fields if f.is_relation and f.name in _NAMED_BY]
            for obj in visible(model, actor).filter(pk__in=keys).select_related(*related):
                key = (object_type, str(obj.pk))
                self._names[key] = str(obj)
                self._urls[key] = spec.url(obj.pk) if spec is not None and spec.url else None

    def known(self, object_type: str, pk: Any) -> bool:
        return (object_type, str(pk)) in self._names

    def name(self, object_type: str, pk: Any) -> str:
        return self._names.get((object_type, str(pk)), f"#{pk}")

    def url(self, object_type: str, pk: Any) -> str | None:
        return self._urls.get((object_type, str(pk)))


# --- values -------------------------------------------------------------------------------------


def _count_items(value: Any) -> str:
    n = len(value)
    return ngettext("%(count)s item", "%(count)s items", n) % {"count": n}


def plain(value: Any) -> Any:
    """A value without a field to explain it: yes/no, lists joined, mappings counted."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        if all(isinstance(v, (str, int, float)) for v in value):
            return gettext(", ").join(str(v) for v in value)
        return _count_items(value)
    if isinstance(value, dict):
        return _count_items(value)
    return value


def recorded(value: Any) -> Any:
    """A JSON field's value as the trail recorded it: the value itself, or (older rows) its
    Python text, read back without evaluating anything but literals."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
    return value


def shown(model: type[models.Model] | None, name: str, value: Any, names: core_audit.Names) -> tuple[Any, str | None]:
    """A recorded value as a person reads it, and the page it links to (foreign keys)."""
    if value is None or value == "":
        return None, None
    spec = _spec(model)
    field = _fields(model).get(name)
    if isinstance(field, models.JSONField):
        value = recorded(value)
    if spec is not None and name in spec.formatters:
        return spec.formatters[name](value), None
    if field is not None and field.is_relation and isinstance(field.related_model, type):
        target = field.related_model._meta.label_lower
        return names.name(target, value), names.url(target, value)
    if field is not None and field.choices:
        return dict(field.flatchoices).get(value, value), None
    if isinstance(field, models.DateTimeField):
        return local_time(value), None
    return plain(value), None


def _relation_target(model: type[models.Model] | None, name: str) -> str | None:
    field = _fields(model).get(name)
    if field is not None and field.is_relation and isinstance(field.related_model, type):
        return field.related_model._meta.label_lower
    return None


# --- rows ---------------------------------------------------------------------------------------


def _pairs(changes: Any) -> Iterable[tuple[str, Any, Any]]:
    if not isinstance(changes, dict):
        return
    for name, pair in changes.items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        yield name, before, after


def _has_history(model: type[models.Model] | None) -> bool:
    return model is not None and hasattr(model._default_manager, "for_actor")


def event_rows(events: Iterable[Any], *, actor: Any, changes: bool = True) -> list[dict[str, Any]]:
    """What the pages and the API's human-facing fields show of each event: the action's label,
    the object's type and name, each change as field: before → after with foreign keys named,
    and the action's summary. A bounded number of queries whatever the number of events: one
    per model named. ``changes=False`` (the home feed) leaves the changes out, and their names."""
    events = list(events)
    user_type = settings.AUTH_USER_MODEL.lower()
    wanted: dict[str, set[Any]] = defaultdict(set)
    for event in events:
        model = model_for(event.object_type)
        if event.actor_id:
            wanted[user_type].add(event.actor_id)
        if event.object_id and model is not None:
            wanted[event.object_type].add(event.object_id)
        for name, before, after in _pairs(event.changes if changes else None):
            target = _relation_target(model, name)
            if target:
                wanted[target].update(v for v in (before, after) if v not in (None, ""))
        action = core_audit.ACTIONS.get(event.action)
        if action is not None and action.refs is not None:
            for object_type, pk in action.refs(event):
                if pk not in (None, ""):
                    wanted[object_type].add(pk)
    names = Names(actor, wanted)

    rows = []
    for event in events:
        model = model_for(event.object_type)
        shown_changes = []
        for name, before, after in _pairs(event.changes if changes else None):
            if field_hidden(model, name):
                continue
            before_text, before_url = shown(model, name, before, names)
            after_text, after_url = shown(model, name, after, names)
            if before_text is None and after_text is None:
                continue  # nothing to nothing (an empty list of warnings)
            shown_changes.append(
                {
                    "name": name,
                    "field": field_label(model, name),
                    "before": before_text,
                    "before_url": before_url,
                    "after": after_text,
                    "after_url": after_url,
                }
            )
        action = core_audit.ACTIONS.get(event.action)
        facts: list[Fact] = []
        if action is not None and action.summary is not None and isinstance(event.extra, dict):
            facts = action.summary(event, names)
        history_url = None
        if _has_history(model) and event.object_id:
            history_url = reverse("audit:history", args=[event.object_type, event.object_id])
        object_url = None
        # The record as it is named now, in the reader's language; as recorded if gone or out of sight.
        object_name = (event.object_repr or event.object_id) if event.object_id else ""
        if event.object_id and names.known(event.object_type, event.object_id):
            object_url = names.url(event.object_type, event.object_id)
            object_name = names.name(event.object_type, event.object_id)
        if event.actor_id and names.known(user_type, event.actor_id):
            actor_name = names.name(user_type, event.actor_id)
        elif event.actor_label in ("", "system"):
            actor_name = gettext("System")
        else:
            actor_name = event.actor_label
        rows.append(
            {
                "event": event,
                "at": local_time(event.at),
                "actor_name": actor_name,
                "action_label": str(action.label) if action is not None else event.action,
                "type_label": type_label(event.object_type) if event.object_type else "",
                # An event about a kind of record (an export) has no record: the type says it all.
                "object_name": object_name,
                "object_url": object_url,
                "changes": shown_changes,
                "facts": [{"label": str(f.label), "value": f.value, "url": f.url} for f in facts],
                "history_url": history_url,
            }
        )
    return rows


def tracked_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if issubclass(m, TrackedModel)]
