"""The due list in the export engine (``imports.exporting``): advisors call from a spreadsheet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.core.permissions import can
from autocrm.customers.models import Customer
from autocrm.imports import exporting

from . import selectors
from .choices import Item, RateMethod
from .models import VehicleDue


class DueExporter(exporting.Exporter):
    model = VehicleDue
    filter_names = ("weeks", "item", "overdue")
    label = _("Vehicles due for service")

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        return (
            selectors.due_list(actor=actor, filters=dict(filters))
            .filter(pk__in=VehicleDue.objects.for_actor(actor, "export").values("pk"))
            .order_by("next_due_on", "vehicle_id")
        )

    def may_reveal(self, actor: Actor) -> bool:
        return can(actor, "reveal", Customer)

    def columns(self, actor: Actor, full: bool) -> list[exporting.Column]:
        labels = dict(Item.choices)
        methods = dict(RateMethod.choices)

        def owner_mobile(o: VehicleDue) -> Any:
            c = o.vehicle.customer
            return exporting.sensitive_value(actor, c, "mobile", full) if c is not None else ""

        return [
            exporting.Column("vehicle", "ID", lambda o: o.vehicle_id),
            exporting.Column("plate", _("plate"), lambda o: o.vehicle.plate),
            exporting.Column("vin", _("VIN"), lambda o: o.vehicle.vin),
            exporting.Column("series", _("series"), lambda o: o.vehicle.series.name if o.vehicle.series_id else ""),
            exporting.Column("owner", _("owner"), lambda o: o.vehicle.customer.name if o.vehicle.customer else ""),
            exporting.Column("owner_mobile", _("owner's mobile"), owner_mobile),
            exporting.Column("next_due_on", _("next due"), lambda o: o.next_due_on),
            exporting.Column(
                "items", _("due items"), lambda o: "、".join(str(labels.get(i, i)) for i in o.items or [])
            ),
            exporting.Column("due_km", _("due at (km)"), lambda o: o.due_km),
            exporting.Column("estimated_km", _("estimated mileage (km)"), lambda o: o.estimated_km),
            exporting.Column("rate_used", _("km per day"), lambda o: round(o.rate_used, 1)),
            exporting.Column("rate_method", _("how the rate was found"), lambda o: methods.get(o.rate_method, "")),
        ]


def register() -> None:
    exporting.register_exporter("maintenance_due", DueExporter(), order=40)
