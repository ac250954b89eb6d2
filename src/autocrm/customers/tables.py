"""The customer list's columns, with each value as the actor may see it (mobile masked)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.models import model_field
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
    # The columns the rows read (customers.selectors.customer_page(only=…)): no other personal
    # field is decrypted for the list.
    reads = (
        "id", "store_id", "kind", "name", "mobile", "city", "district", "lifecycle_stage", "source_channel",
        "created_at", "consultant__username", "consultant__display_name",
    )  # fmt: skip

    def __init__(self, actor: Actor, customers: Iterable[Customer], *, show_store: bool = False) -> None:
        self.actor = actor
        self.customers = list(customers)
        # "All stores" in the header's switch: a store column, named in one query.
        self.store_names: dict[int, str] = {}
        if show_store:
            from autocrm.tenancy.selectors import store_names

            self.store_names = store_names(actor=actor, ids={c.store_id for c in self.customers})

    def rows(self) -> list[dict[str, Any]]:
        # Once per page, not per row: Django's get_FOO_display() hashes every (lazy) choice of
        # the field on each call — 3 columns × 25 rows were 500 translations of the same labels.
        kind, stage, source = (_labels(name) for name in ("kind", "lifecycle_stage", "source_channel"))
        detail = reverse("customers:customer_detail", args=[0]).removesuffix("0/")  # …/customers/<pk>/
        rows = []
        for c in self.customers:
            consultant = c.consultant
            rows.append(
                {
                    "id": c.pk,
                    "url": f"{detail}{c.pk}/",
                    "name": c.name,
                    "kind": kind.get(c.kind, c.kind),
                    "company": c.kind == "company",
                    "mobile": present(self.actor, c, "mobile") or "",
                    "district": " ".join(x for x in (c.city, c.district) if x),
                    "lifecycle_stage": stage.get(c.lifecycle_stage, c.lifecycle_stage),
                    "source_channel": source.get(c.source_channel, c.source_channel) if c.source_channel else "",
                    "consultant": (consultant.display_name or consultant.username) if consultant else "",
                    "created_at": c.created_at,
                    "store": self.store_names.get(c.store_id, ""),
                }
            )
        return rows


def _labels(field: str) -> dict[Any, str]:
    """A choice field's values → their labels in the active language."""
    return {value: str(label) for value, label in model_field(Customer, field).flatchoices}
