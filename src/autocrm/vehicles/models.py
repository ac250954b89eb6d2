from __future__ import annotations

from collections.abc import Sequence

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import FuelType, PlateKind, ReadingSource, Usage


class Brand(models.Model):
    """Shared catalogue (not store-scoped): a make sold in China, e.g. 比亚迪, 丰田."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    name_en = models.CharField(_("English name"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("brand")
        verbose_name_plural = _("brands")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Series(models.Model):
    """Shared catalogue: a model line of a brand (汉, 凯美瑞)."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="series")
    name = models.CharField(_("name"), max_length=60)
    vehicle_class = models.CharField(_("class"), max_length=20, blank=True)  # sedan, SUV, MPV …

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="series_unique_in_brand")]

    def __str__(self) -> str:
        return f"{self.brand.name} {self.name}"


class Trim(models.Model):
    """Shared catalogue: a sellable configuration of a series and year (2024款 EV 610km 尊享型)."""

    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="trims")
    name = models.CharField(_("name"), max_length=100)
    model_year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    fuel_type = models.CharField(_("fuel type"), max_length=10, choices=FuelType.choices)
    msrp = models.DecimalField(_("MSRP"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("trim")
        verbose_name_plural = _("trims")

    def __str__(self) -> str:
        return f"{self.series} {self.name}"


class Vehicle(TenantModel):
    """A car the store knows: VIN (17 characters, check digit verified for Chinese VINs), plate,
    catalogue entry, dates that drive reminders, and its current owner.

    At least one of VIN and plate is known: a car from a spreadsheet without VINs is kept by its
    plate, its VIN empty until someone adds it ("VIN missing", a data-quality check lists them).
    A non-empty VIN is unique within the organization (``organization_id`` is kept on the row
    for that), a non-empty ``external_id`` within the store. A plate is not unique: it moves
    from car to car (a plate kept when the car is sold), so two vehicles of one store with one
    plate are a warning and a data-quality check, never a refusal (docs/adr/0011).
    Visibility follows the owner: a sales consultant sees the vehicles of their customers."""

    # No index of its own for the store (every store index leads with it), the owner (indexed by
    # ``vehicle_customer``) or the catalogue links (no list filters by them; a catalogue entry is
    # never deleted in practice, and PROTECT would then read the table once): every index is paid
    # by every insert, 100,000 at a time in an import (migration 0003).
    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    organization_id = models.BigIntegerField(editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="vehicles",
        verbose_name=_("owner"), db_index=False,
    )  # fmt: skip
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    plate = models.CharField(_("plate"), max_length=10, blank=True)
    plate_kind = models.CharField(_("plate kind"), max_length=12, choices=PlateKind.choices, blank=True)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    trim = models.ForeignKey(Trim, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False)
    maker = models.CharField(_("maker"), max_length=60, blank=True)
    model_year = models.PositiveSmallIntegerField(_("model year"), null=True, blank=True)
    fuel_type = models.CharField(_("fuel type"), max_length=10, choices=FuelType.choices, blank=True)
    colour = models.CharField(_("colour"), max_length=20, blank=True)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    mileage_km = models.PositiveIntegerField(_("current mileage (km)"), null=True, blank=True)
    mileage_at = models.DateTimeField(_("mileage read at"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    extended_warranty_end = models.DateField(_("extended warranty end"), null=True, blank=True)
    insurance_expiry = models.DateField(_("insurance expiry"), null=True, blank=True)
    inspection_due = models.DateField(_("annual inspection due"), null=True, blank=True)
    usage = models.CharField(_("usage"), max_length=10, choices=Usage.choices, blank=True, default="")
    external_id = models.CharField(_("external ID"), max_length=64, blank=True)
    vin_warnings = models.JSONField(default=list, blank=True)

    scope_owner_field = "customer__consultant"
    # Set by the services on the vehicle they return (not stored): what the user is told after
    # the save — "VIN missing; add it later", a plate another vehicle of the store has.
    warnings: Sequence[str] = ()

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "vin"], condition=~models.Q(vin=""), name="vehicle_vin_unique_in_org"
            ),
            models.UniqueConstraint(
                fields=["store", "external_id"], condition=~models.Q(external_id=""), name="vehicle_external_id_unique"
            ),
            models.CheckConstraint(condition=~models.Q(vin="", plate=""), name="vehicle_vin_or_plate"),
        ]
        indexes = [
            models.Index(fields=["store", "plate"], name="vehicle_store_plate"),
            models.Index(fields=["store", "vin"], name="vehicle_store_vin"),
            models.Index(fields=["customer"], name="vehicle_customer"),
        ]

    def __str__(self) -> str:
        return self.plate or self.vin


class OdometerReading(TenantModel):
    """A mileage reading. Readings only go up, except a correction, which carries a reason."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    # Indexed by ``reading_vehicle_at``, which leads with the vehicle.
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="readings", db_index=False)
    km = models.PositiveIntegerField(_("mileage (km)"))
    at = models.DateTimeField(_("read at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=12, choices=ReadingSource.choices)
    correction_reason = models.CharField(_("correction reason"), max_length=200, blank=True)

    scope_owner_field = "vehicle__customer__consultant"

    class Meta:
        verbose_name = _("odometer reading")
        verbose_name_plural = _("odometer readings")
        indexes = [models.Index(fields=["vehicle", "-at", "-id"], name="reading_vehicle_at")]

    def __str__(self) -> str:
        return f"{self.km} km @ {self.at:%Y-%m-%d}"


class Ownership(TenantModel):
    """Who owned a vehicle when. The open row (``ended_on`` empty) is the current owner; a
    transfer closes it and opens another, so the past owner keeps their records."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    vehicle = models.ForeignKey(Vehicle, on_delete=models.CASCADE, related_name="ownerships")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="ownerships")
    started_on = models.DateField(_("owned from"))
    ended_on = models.DateField(_("owned until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("ownership")
        verbose_name_plural = _("ownerships")
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle"], condition=models.Q(ended_on__isnull=True), name="ownership_one_current"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vehicle} · {self.customer}"
