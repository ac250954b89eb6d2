"""How the audit trail names what tenancy records: a store's modules switched on and off."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core import modules
from autocrm.core.audit import Fact, Names, register_action, register_model


def _labels(keys: Any) -> str:
    if not isinstance(keys, list):
        return ""
    found = {m.key: m.label for m in modules.MODULES.entries()}
    return gettext(", ").join(str(found.get(k, k)) for k in keys)


def _modules_facts(event: Any, names: Names) -> list[Fact]:
    facts = []
    if event.extra.get("switched_on"):
        facts.append(Fact(_("Switched on"), _labels(event.extra["switched_on"])))
    if event.extra.get("switched_off"):
        facts.append(Fact(_("Switched off"), _labels(event.extra["switched_off"])))
    return facts


def _switched_on(value: Any) -> Any:
    """A store's ``modules`` setting in the trail: the labels of the modules that are on."""
    if isinstance(value, dict):
        return _labels([k for k, on in value.items() if on]) or "—"
    return value


def register() -> None:
    register_action("store.modules", _("Store modules changed"), summary=_modules_facts)
    register_model("tenancy.store", formatters={"modules": _switched_on})
