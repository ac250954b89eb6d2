"""The store's cost basis for the service KPIs (零服吸收率, ADR 0026): the monthly fixed costs the
after-sales gross profit is set against, what they cover, and the cost of an hour of labour
(technicians' wages per sold hour) taken off the labour revenue for the gross profit."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel


class CostBasis(models.TextChoices):
    STORE = "store", _("All fixed costs of the store")
    AFTERSALES = "aftersales", _("Fixed costs of after-sales only")


class ServiceCosts(TenantModel):
    """One row per store (absent: absorption is not computed for the store)."""

    basis = models.CharField(_("cost basis"), max_length=12, choices=CostBasis.choices, default=CostBasis.STORE)
    monthly_fixed_costs = models.DecimalField(
        _("fixed costs per month"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    labour_cost_per_hour = models.DecimalField(
        _("labour cost per hour"), max_digits=10, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        verbose_name = _("service cost basis")
        verbose_name_plural = _("service cost bases")
        constraints = [models.UniqueConstraint(fields=["store"], name="service_costs_one_per_store")]

    def __str__(self) -> str:
        return f"{self.store_id}: {self.monthly_fixed_costs}"
