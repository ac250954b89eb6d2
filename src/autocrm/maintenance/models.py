"""Maintenance (保养预测、召回与续保): service plans, what was done when, each vehicle's predicted
next visit, and OEM recall campaigns. Reads ``vehicles``; writes only these tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import StoreScopedManager, TenantModel

from .choices import Item, RateMethod, RecallStatus, RecordSource


class ServicePlan(models.Model):
    """A maintenance schedule. ``store`` empty: a default every store gets; ``series`` empty: for
    every series without a plan of its own. The most specific plan wins: the store's for the
    series, the store's default, the shipped plan for the series, the shipped default."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    series = models.ForeignKey(
        "vehicles.Series", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("series")
    )
    name = models.CharField(_("name"), max_length=100)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service plan")
        verbose_name_plural = _("service plans")
        constraints = [
            models.UniqueConstraint(fields=["store", "series"], name="plan_unique_store_series"),
            models.UniqueConstraint(
                fields=["series"], condition=models.Q(store__isnull=True), name="plan_unique_shipped_series"
            ),
            models.UniqueConstraint(
                fields=["store"], condition=models.Q(series__isnull=True), name="plan_unique_store_default"
            ),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(store__isnull=True, series__isnull=True), name="plan_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlanItem(models.Model):
    """One item of a plan and its cycle: by kilometres, by months, or before a season, whichever
    first. ``first_*`` is the first service (首保) counted from the delivery at 0 km."""

    plan = models.ForeignKey(ServicePlan, on_delete=models.CASCADE, related_name="items")
    item = models.CharField(_("item"), max_length=20, choices=Item.choices)
    first_km = models.PositiveIntegerField(_("first service at (km)"), null=True, blank=True)
    first_months = models.PositiveSmallIntegerField(_("first service at (months)"), null=True, blank=True)
    interval_km = models.PositiveIntegerField(_("every (km)"), null=True, blank=True)
    interval_months = models.PositiveSmallIntegerField(_("every (months)"), null=True, blank=True)
    season_month = models.PositiveSmallIntegerField(_("before the month"), null=True, blank=True)
    fuel_types = models.CharField(_("fuel types"), max_length=40, blank=True, help_text=_("Empty: every fuel type."))
    leads_visit = models.BooleanField(
        _("brings the owner in"), default=True,
        help_text=_("Off: done at the visit around it when due by then (filters, fluids, tyres, coolant before winter)."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("plan item")
        verbose_name_plural = _("plan items")
        constraints = [models.UniqueConstraint(fields=["plan", "item"], name="plan_item_unique")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.item}"


class MaintenanceRecord(TenantModel):
    """An item done on a vehicle (written by ``services.service_recorded`` when a repair order
    closes, by hand, or by an import)."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.CharField(_("item"), max_length=20, choices=Item.choices)
    done_on = models.DateField(_("done on"))
    km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=RecordSource.choices, default=RecordSource.MANUAL)
    reference = models.CharField(_("reference"), max_length=64, blank=True)  # the repair order

    scope_owner_field = "vehicle__customer__consultant"

    class Meta:
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        indexes = [models.Index(fields=["vehicle", "item", "done_on"], name="mrecord_vehicle_item")]

    def __str__(self) -> str:
        return f"{self.item} @ {self.done_on}"


class VehicleDue(models.Model):
    """The predicted next visit of one vehicle, rewritten by the nightly recompute (a summary:
    the vehicle's API answer computes the details live). Lists filter on (store, next_due_on)."""

    vehicle = models.OneToOneField(
        "vehicles.Vehicle", on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("vehicle")
    )
    store = models.ForeignKey("tenancy.Store", on_delete=models.CASCADE, related_name="+", db_index=False)
    next_due_on = models.DateField(_("next due"), null=True, blank=True)
    items = models.JSONField(_("due items"), default=list, blank=True)
    due_km = models.PositiveIntegerField(_("due at (km)"), null=True, blank=True)
    estimated_km = models.PositiveIntegerField(_("estimated mileage (km)"), null=True, blank=True)
    rate_used = models.FloatField(_("km per day"))
    rate_method = models.CharField(_("how the rate was found"), max_length=10, choices=RateMethod.choices)
    computed_at = models.DateTimeField(_("computed at"))

    scope_owner_field = "vehicle__customer__consultant"
    objects = StoreScopedManager()

    class Meta:
        verbose_name = _("vehicle due")
        verbose_name_plural = _("vehicles due")
        indexes = [models.Index(fields=["store", "next_due_on", "vehicle"], name="vehicledue_store_due")]

    def __str__(self) -> str:
        return f"{self.vehicle_id} → {self.next_due_on}"


class FleetRate(models.Model):
    """The median daily mileage of a store's fleet per series (``series`` empty: the whole store),
    written by the recompute: what a vehicle without readings is assumed to drive."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.CASCADE, related_name="+")
    series = models.ForeignKey("vehicles.Series", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    km_per_day = models.FloatField(_("km per day"))
    vehicles = models.PositiveIntegerField(_("vehicles"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("fleet mileage")
        verbose_name_plural = _("fleet mileages")
        constraints = [models.UniqueConstraint(fields=["store", "series"], name="fleetrate_unique")]

    def __str__(self) -> str:
        return f"{self.series_id or '*'}: {self.km_per_day:.1f} km/day"


class RecallCampaign(TenantModel):
    """An OEM recall (召回) as one store sees it: the import matches VINs across the organization
    and gives each store with affected vehicles its own campaign row of the same ``code``."""

    organization_id = models.BigIntegerField(editable=False)
    code = models.CharField(_("campaign code"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    vin_count = models.PositiveIntegerField(_("VINs in the file"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("recall campaign")
        verbose_name_plural = _("recall campaigns")
        constraints = [models.UniqueConstraint(fields=["store", "code"], name="recall_code_unique_in_store")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class RecallVehicle(TenantModel):
    """A vehicle affected by a campaign, until the work is done."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    campaign = models.ForeignKey(RecallCampaign, on_delete=models.CASCADE, related_name="vehicles")
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=RecallStatus.choices, default=RecallStatus.OPEN)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_ref = models.CharField(_("completed by"), max_length=64, blank=True)

    scope_owner_field = "vehicle__customer__consultant"

    class Meta:
        verbose_name = _("recalled vehicle")
        verbose_name_plural = _("recalled vehicles")
        constraints = [models.UniqueConstraint(fields=["campaign", "vehicle"], name="recall_vehicle_unique")]
        indexes = [models.Index(fields=["store", "status"], name="recallvehicle_store_status")]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.vehicle_id}"
