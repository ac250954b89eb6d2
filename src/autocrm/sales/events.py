"""Events the sales app emits (``core.events``), each after its transaction commits.

``sales.deal_delivered`` is the one others wait for: the lead is already closed as won inside the
delivery's transaction (through :func:`autocrm.leads.services.lead_mark_won`), care plans the delivery follow-up call, analytics counts the sale."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from autocrm.core.events import define_event


@dataclass(frozen=True)
class DealCreated:
    deal_id: int
    lead_id: int | None
    consultant_id: int | None


@dataclass(frozen=True)
class DealAdvanced:
    deal_id: int
    from_stage: str
    to_stage: str
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class DealDelivered:
    deal_id: int
    lead_id: int | None
    customer_id: int
    vehicle_id: int
    consultant_id: int | None
    purchase_number: int  # 1 for the customer's first car from the store, 2 for the next …


@dataclass(frozen=True)
class QuoteCreated:
    quote_id: int
    deal_id: int
    needs_approval: bool


@dataclass(frozen=True)
class QuoteApproved:
    quote_id: int
    deal_id: int
    approved_by_id: int | None


@dataclass(frozen=True)
class TestDriveBooked:
    test_drive_id: int
    deal_id: int
    vehicle_id: int


DEAL_CREATED = define_event("sales.deal_created", DealCreated, _("A deal was opened."))
DEAL_ADVANCED = define_event("sales.deal_advanced", DealAdvanced, _("A deal moved to a later stage."))
DEAL_DELIVERED = define_event("sales.deal_delivered", DealDelivered, _("A car was delivered to its customer."))
QUOTE_CREATED = define_event("sales.quote_created", QuoteCreated, _("A quote was made."))
QUOTE_APPROVED = define_event("sales.quote_approved", QuoteApproved, _("A quote's discount was approved."))
TEST_DRIVE_BOOKED = define_event("sales.test_drive_booked", TestDriveBooked, _("A test drive was booked."))
