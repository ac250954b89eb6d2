"""Events the customers app emits (``core.events``), each after its transaction commits.

Higher apps subscribe in their ``AppConfig.ready``: care starts follow-ups, loyalty moves
points with a merge, analytics refreshes its summaries. Payloads carry ids, never personal data:
a subscriber reads the customer again, in its own scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class CustomerCreated:
    customer_id: int


@dataclass(frozen=True)
class CustomerUpdated:
    customer_id: int
    fields: tuple[str, ...]  # the names of the fields whose value changed (never the values)


@dataclass(frozen=True)
class CustomerMerged:
    merge_id: int
    survivor_id: int
    merged_id: int  # kept, hidden, with merged_into = survivor; its related rows now point at the survivor


@dataclass(frozen=True)
class CustomerMergeUndone:
    merge_id: int
    survivor_id: int
    merged_id: int  # visible again, its related rows moved back


CUSTOMER_CREATED = define_event("customers.created", CustomerCreated, _("A customer record was created."))
CUSTOMER_UPDATED = define_event(
    "customers.updated", CustomerUpdated, _("Fields of a customer record were changed (the names of the fields).")
)
CUSTOMER_MERGED = define_event(
    "customers.merged", CustomerMerged, _("Two customer records were merged; every related record moved.")
)
CUSTOMER_MERGE_UNDONE = define_event(
    "customers.merge_undone", CustomerMergeUndone, _("A merge of two customer records was undone.")
)
