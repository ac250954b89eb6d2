"""The customer list's columns, with each value as the actor may see it (mobile masked)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.permissions import present

from .models import Customer


class CustomerTable:
    columns = (
        ("name", _("Name")),
        ("mobile", _("Mobile")),
        ("district", _("District")),
        ("lifecycle_stage", _("Lifecycle stage")),
        ("source_channel", _("Source channel")),
        ("consultant", _("Sales consultant")),
        ("created_at", _("Created")),
    )

    def __init__(self, actor: Actor, customers: Iterable[Customer], *, show_store: bool = False) -> None:
        self.actor = actor
        self.customers = list(customers)
        # "All stores" in the header's switch: a store column, named in one query.
        self.store_names: dict[int, str] = {}
        if show_store:
            from autocrm.tenancy.selectors import store_names

            self.store_names = store_names(actor=actor, ids={c.store_id for c in self.customers})

    def rows(self) -> list[dict[str, Any]]:
        rows = []
        for c in self.customers:
            consultant = c.consultant
            rows.append(
                {
                    "id": c.pk,
                    "url": reverse("customers:customer_detail", args=[c.pk]),
                    "name": c.name,
                    "kind": c.get_kind_display(),
                    "company": c.kind == "company",
                    "mobile": present(self.actor, c, "mobile") or "",
                    "district": " ".join(x for x in (c.city, c.district) if x),
                    "lifecycle_stage": c.get_lifecycle_stage_display(),
                    "source_channel": c.get_source_channel_display() if c.source_channel else "",
                    "consultant": (consultant.display_name or consultant.username) if consultant else "",
                    "created_at": c.created_at,
                    "store": self.store_names.get(c.store_id, ""),
                }
            )
        return rows
