"""The store's mapping of maintenance plan items to the parts they use (oil service → 4.5 L of
oil and an oil filter): what turns the due list into parts demand (ADR 0027)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel
from autocrm.maintenance.choices import Item


class ItemPart(TenantModel):
    """``quantity`` of ``part`` used each time plan item ``item`` is done in the store."""

    item = models.CharField(_("item"), max_length=20, choices=Item.choices)
    part = models.ForeignKey("parts.Part", on_delete=models.CASCADE, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("part used by a plan item")
        verbose_name_plural = _("parts used by plan items")
        constraints = [
            models.UniqueConstraint(fields=["store", "item", "part"], name="itempart_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="itempart_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.item} → {self.part_id} × {self.quantity}"
