"""What loyalty does when sibling apps announce something (subscribed in ``AppConfig.ready``).
Handlers take the payload's ids, re-read their rows and call one service; they are idempotent."""

from __future__ import annotations

from typing import Any

from autocrm.core.events import Event

from . import services


def on_tier_changed(event: Event) -> None:
    p: Any = event.payload
    for membership_id in p.membership_ids:
        services.tier_notice(membership_id=membership_id, upgraded=p.upgraded, downgrade_on=p.downgrade_on)


def on_lead_created(event: Event) -> None:
    p: Any = event.payload
    code = getattr(p, "referral_code", "")
    if code and event.store_id is not None:
        services.referral_from_lead(lead_id=p.lead_id, store_id=event.store_id, code=code, customer_id=p.customer_id)


def on_deal_delivered(event: Event) -> None:
    p: Any = event.payload
    if event.store_id is not None:
        services.referral_converted(store_id=event.store_id, customer_id=p.customer_id, lead_id=p.lead_id,
                                    reason=f"sales.deal:{p.deal_id}")  # fmt: skip


def on_repair_order_closed(event: Event) -> None:
    p: Any = event.payload
    if event.store_id is not None:
        services.referral_converted(store_id=event.store_id, customer_id=p.customer_id, lead_id=None,
                                    reason=f"service.repairorder:{p.repair_order_id}")  # fmt: skip
