"""How the audit trail names what customers records: its actions (merge, undo, the duplicate
finder) with summaries of their reports, the labels of fields without a
``verbose_name``, and the page each record opens on. Registered in ``CustomersConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.audit.formatting import field_label, model_for, type_label
from autocrm.core.audit import Fact, Names, register_action, register_model

CUSTOMER = "customers.customer"
MERGE = "customers.customermerge"


def _moved(moved: Any) -> str:
    """``{"vehicles.vehicle.customer": 2, …}`` (or lists of ids) → "车辆 2、时间线事件 3"."""
    if not isinstance(moved, dict):
        return ""
    parts = []
    for key, value in moved.items():
        count = len(value) if isinstance(value, list) else value
        if not count:
            continue
        object_type = ".".join(str(key).split(".")[:2])
        parts.append(f"{type_label(object_type)} {count}")
    return gettext(", ").join(parts)


def _chosen(choices: Any) -> str:
    """The fields whose value came from the merged record, by their labels."""
    if not isinstance(choices, dict):
        return ""
    model = model_for(CUSTOMER)
    taken = [field_label(model, name) for name, side in choices.items() if side == "merged"]
    return gettext(", ").join(taken)


def _numbered(names: Names, pk: Any) -> str:
    """A customer's name with its record number: after a merge both records may bear one name."""
    if not names.known(CUSTOMER, pk):
        return names.name(CUSTOMER, pk)
    return gettext("%(name)s (record %(id)s)") % {"name": names.name(CUSTOMER, pk), "id": pk}


def _merge_refs(event: Any) -> list[tuple[str, Any]]:
    return [(CUSTOMER, event.extra.get("merged")), (CUSTOMER, event.object_id), (MERGE, event.extra.get("merge"))]


def _merge_facts(event: Any, names: Names) -> list[Fact]:
    extra = event.extra
    merged, survivor, merge = extra.get("merged"), event.object_id, extra.get("merge")
    facts = [
        Fact(_("Merged record"), _numbered(names, merged), names.url(CUSTOMER, merged)),
        Fact(_("Merged into"), _numbered(names, survivor), names.url(CUSTOMER, survivor)),
    ]
    if merge:
        facts.append(Fact(_("Merge"), gettext("Details and undo"), names.url(MERGE, merge)))
    if extra.get("choices"):
        facts.append(Fact(_("Values taken from the merged record"), _chosen(extra["choices"])))
    if extra.get("moved"):
        facts.append(Fact(_("Records moved"), _moved(extra["moved"]) or "0"))
    if any((extra.get("dropped") or {}).values()):
        facts.append(Fact(_("Duplicates dropped"), _moved(extra["dropped"])))
    return facts


def _undo_facts(event: Any, names: Names) -> list[Fact]:
    merged, merge = event.extra.get("merged"), event.extra.get("merge")
    facts = [Fact(_("Restored record"), _numbered(names, merged), names.url(CUSTOMER, merged))]
    if merge:
        facts.append(Fact(_("Merge"), gettext("Details"), names.url(MERGE, merge)))
    return facts


def _duplicates_facts(event: Any, names: Names) -> list[Fact]:
    extra = event.extra
    return [
        Fact(_("Customers compared"), extra.get("customers", 0)),
        Fact(_("Possible duplicates"), extra.get("pairs", 0)),
        Fact(_("New pairs"), extra.get("created", 0)),
        Fact(_("Pairs updated"), extra.get("updated", 0)),
        Fact(_("Seconds"), extra.get("seconds", 0)),
    ]


def _url(name: str) -> Any:
    return lambda pk: reverse(name, args=[pk])


def register() -> None:
    register_action("customer.merge", _("Customers merged"), refs=_merge_refs, summary=_merge_facts)
    register_action("customer.merge_undo", _("Merge undone"), refs=_merge_refs, summary=_undo_facts)
    register_action("customer.duplicates_found", _("Duplicates searched"), summary=_duplicates_facts)

    register_model(CUSTOMER, labels={"merged_into_id": _("merged into")}, url=_url("customers:customer_detail"))
    register_model(
        MERGE,
        labels={
            "survivor_id": _("kept record"),
            "merged_id": _("merged record"),
            "actor_id": _("merged by"),
            "moved": _("records moved"),
            "survivor_before": _("values before the merge"),
        },
        formatters={"moved": _moved, "choices": _chosen},
        url=_url("duplicates:merge_detail"),
    )
    register_model(
        "customers.duplicatepair", labels={"reviewed_at": _("reviewed at")}, url=_url("duplicates:duplicate_compare")
    )
