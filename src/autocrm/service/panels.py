"""The service part of the customer 360 page (``core.extensions``): a lazy part (no query on the
page; the part reads the repair orders and the declined work to offer again when revealed)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from autocrm.core.extensions import Panel, register_panel
from autocrm.core.permissions import can

from .models import RepairOrder


def customer_service_context(actor: Any, customer: Any) -> dict[str, Any] | None:
    if not can(actor, "view", RepairOrder):
        return None
    return {"service_part_url": reverse("service:customer_service_part", args=[customer.pk])}


def register() -> None:
    register_panel(Panel(target="customers.customer", key="service", template="service/panels/customer_service.html",
                         context=customer_service_context, order=13))  # fmt: skip
