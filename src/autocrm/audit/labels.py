"""Labels of the actions core and the audit machinery record themselves (changes, denials,
reveals, exports, key rotation). Apps register their own actions the same way, with
``core.audit.register_action`` in their ``AppConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import Fact, Names, register_action
from autocrm.core.roles import Role

from .formatting import field_label, model_for, plain, shown, type_label

# What a denied or logged operation was: the action names of the permission rule tables.
OPERATIONS: dict[str, Any] = {
    "view": _("view"),
    "add": _("add"),
    "change": _("change"),
    "delete": _("delete"),
    "export": _("export"),
    "import": _("import"),
    "reveal": _("reveal personal data"),
    "merge": _("merge"),
    "undo": _("undo"),
    "audit": _("read the history"),
    "quality": _("data quality"),
    "assign": _("assign"),
    "transfer": _("transfer"),
}


def operation_label(code: Any) -> Any:
    return OPERATIONS.get(str(code), code)


def role_label(code: Any) -> Any:
    try:
        return Role(code).label
    except ValueError:
        return code


def _denied(event: Any, names: Names) -> list[Fact]:
    extra = event.extra
    facts = [Fact(_("Attempted"), operation_label(extra.get("attempted", "")))]
    if extra.get("field"):
        facts.append(Fact(_("Field"), field_label(model_for(event.object_type), extra["field"])))
    if extra.get("role"):
        facts.append(Fact(_("Role"), role_label(extra["role"])))
    return facts


def _revealed(event: Any, names: Names) -> list[Fact]:
    field = event.extra.get("field")
    return [Fact(_("Field"), field_label(model_for(event.object_type), field))] if field else []


# Export filters that are not fields of the exported model.
_EXPORT_FILTERS: dict[str, Any] = {
    "q": _("search"),
    "format": _("file format"),
    "full_personal_data": _("full personal data"),
    "tag": _("tag"),
}
_FORMATS: dict[str, Any] = {"csv": "CSV", "xlsx": "Excel (.xlsx)"}


def _export_filter(model: Any, name: str, value: Any, names: Names) -> Fact:
    if name == "format":
        return Fact(_EXPORT_FILTERS[name], _FORMATS.get(value, value))
    if name in _EXPORT_FILTERS:
        return Fact(_EXPORT_FILTERS[name], plain(value))
    if model is not None and name in {f.name for f in model._meta.concrete_fields}:
        attname = model._meta.get_field(name).attname
        text, url = shown(model, attname, value, names)
        return Fact(field_label(model, attname), text, url)
    return Fact(name, plain(value))


def _export_refs(event: Any) -> list[tuple[str, Any]]:
    model = model_for(event.object_type)
    refs = []
    for name, value in (event.extra.get("filters") or {}).items():
        if model is None:
            break
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:  # not a field: a search word, the format…
            continue
        target = field.related_model  # a model once resolved (not "self"); a generic key's is typed Any
        if (
            field.is_relation
            and isinstance(target, type)
            and issubclass(target, models.Model)
            and not field.many_to_many
        ):
            refs.append((target._meta.label_lower, value))
    return refs


def _exported(event: Any, names: Names) -> list[Fact]:
    extra = event.extra
    model = model_for(event.object_type)
    facts = [
        Fact(_("Rows"), extra.get("count", 0)),
        Fact(_("What"), type_label(event.object_type)),
    ]
    filters = extra.get("filters") or {}
    shown_filters = [
        _export_filter(model, k, v, names) for k, v in filters.items() if k not in ("format", "full_personal_data")
    ]
    if shown_filters:
        facts.append(
            Fact(
                _("Filter"),
                gettext("; ").join(f"{f.label}: {f.value if f.value is not None else '—'}" for f in shown_filters),
            )
        )
    else:
        facts.append(Fact(_("Filter"), _("none (everything in scope)")))
    if "format" in filters:
        facts.append(_export_filter(model, "format", filters["format"], names))
    if "full_personal_data" in filters:
        facts.append(Fact(_EXPORT_FILTERS["full_personal_data"], plain(bool(filters["full_personal_data"]))))
    return facts


def _rotated(event: Any, names: Names) -> list[Fact]:
    counts = event.extra.get("models") or {}
    done = gettext("; ").join(f"{type_label(k)}: {v}" for k, v in counts.items()) if isinstance(counts, dict) else ""
    return [Fact(_("Key"), event.extra.get("active_kid", "")), Fact(_("Re-encrypted rows"), done or "0")]


def register() -> None:
    register_action("create", _("Created"))
    register_action("update", _("Changed"))
    register_action("delete", _("Deleted"))
    register_action("authz.denied", _("Access denied"), noise=True, summary=_denied)
    register_action("pii.reveal", _("Personal data revealed"), summary=_revealed)
    register_action("export", _("Exported"), refs=_export_refs, summary=_exported)
    register_action("keys.rotate", _("Encryption keys rotated"), summary=_rotated)
