"""Timeline kinds and their labels: the badge each touch on a customer's timeline shows.

Every module that writes to the timeline (``services.timeline_record``) registers the kinds it
writes with :func:`register_timeline_kind` in its ``AppConfig.ready`` — vehicles, leads, service…
— so the 360 page names them in the reader's language and ``customers`` imports none of them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from autocrm.core.extensions import Registry, registry

TIMELINE_KINDS: Registry[Any] = registry("customers.timeline_kinds")


def register_timeline_kind(kind: str, label: Any) -> None:
    """``kind`` as written by ``timeline_record`` (``vehicle.added``) → a gettext_lazy label."""
    TIMELINE_KINDS.register(label, key=kind)


def timeline_label(kind: str) -> Any:
    """The registered label; an unregistered kind shows a neutral word, never its code."""
    label = TIMELINE_KINDS.get(kind)
    return label if label is not None else _("Activity")


def register() -> None:
    for kind, label in (
        ("customer.created", _("Created")),
        ("customer.assigned", _("Assigned")),
        ("consent.granted", _("Consent granted")),
        ("consent.refused", _("Consent refused")),
        ("consent.withdrawn", _("Consent withdrawn")),
        ("household.linked", _("Household")),
        ("customer.merged", _("Merged")),
        ("customer.merge_undone", _("Merge undone")),
    ):
        register_timeline_kind(kind, label)
