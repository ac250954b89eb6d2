"""How the audit trail names vehicles' records: labels of fields without a ``verbose_name``,
makers by their Chinese name, and the page a vehicle opens on. Registered in
``VehiclesConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_model
from autocrm.core.identifiers import maker_label


def _warnings(value: Any) -> Any:
    if isinstance(value, list):
        return gettext("; ").join(str(v) for v in value) or None
    return value


def register() -> None:
    register_model(
        "vehicles.vehicle",
        labels={"vin_warnings": _("VIN warnings")},
        formatters={"vin_warnings": _warnings, "maker": maker_label},
        url=lambda pk: reverse("vehicles:vehicle_detail", args=[pk]),
    )
