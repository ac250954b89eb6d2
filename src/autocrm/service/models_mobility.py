"""Mobility services (出行服务, issue 14 item 1b): the store's loaner cars (代步车) and their
bookings with hand-over and return checks, concierge errands (年检代办, 上门取送车) run by a driver,
and roadside rescue (救援) inside the store's service area. Imported at the end of
``service.models`` so Django finds the models in the service app (ADR 0023)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from autocrm.core.models import StoredUpload, TenantModel


class Energy(models.TextChoices):
    FUEL = "fuel", _("Fuel")
    EV = "ev", _("Electric")


class LoanerStatus(models.TextChoices):
    ACTIVE = "active", _("In service")
    MAINTENANCE = "maintenance", _("In maintenance")
    RETIRED = "retired", _("Retired")


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    OUT = "out", _("Handed over")
    RETURNED = "returned", pgettext_lazy("loaner booking", "Returned")
    CANCELLED = "cancelled", _("Cancelled")


class LoanerPhotoStage(models.TextChoices):
    HANDOVER = "handover", _("At hand-over")
    RETURN = "return", _("At return")


class ErrandKind(models.TextChoices):
    INSPECTION = "inspection", _("Annual inspection run")
    PICKUP = "pickup", _("Pick-up of the car")
    DELIVERY = "delivery", _("Delivery of the car")


class ErrandStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ASSIGNED = "assigned", _("Assigned")
    EN_ROUTE = "en_route", _("En route")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class RescueStatus(models.TextChoices):
    DISPATCHED = "dispatched", _("Dispatched")
    ARRIVED = "arrived", pgettext_lazy("rescue status", "Arrived")
    TOWED = "towed", _("Towed")
    FIXED = "fixed", _("Fixed on site")
    CLOSED = "closed", _("Closed")


class MobilitySettings(TenantModel):
    """The store's mobility rules: free loaner days and the day rate beyond them, the price of a
    missing 10% of fuel or charge, the service area for rescue (a centre point and a radius in
    km) and the arrival target inside it. One row per store, defaults on first use. Its row is
    also the lock loaner bookings of the store take (``lock``)."""

    loaner_free_days = models.PositiveSmallIntegerField(_("free loaner days"), default=1)
    loaner_day_rate = models.DecimalField(_("loaner day rate beyond the free days"), max_digits=8,
                                          decimal_places=2, default=Decimal("200.00"))  # fmt: skip
    level_rate = models.DecimalField(_("price per tenth of the tank or charge missing"), max_digits=8, decimal_places=2,
                                     default=Decimal("50.00"))  # fmt: skip
    area_lat = models.DecimalField(_("service area centre (latitude)"), max_digits=9, decimal_places=6,
                                   null=True, blank=True)  # fmt: skip
    area_lng = models.DecimalField(_("service area centre (longitude)"), max_digits=9, decimal_places=6,
                                   null=True, blank=True)  # fmt: skip
    area_radius_km = models.DecimalField(_("service area radius (km)"), max_digits=6, decimal_places=1,
                                         default=Decimal("30.0"))  # fmt: skip
    rescue_target_minutes = models.PositiveSmallIntegerField(_("rescue arrival target (minutes)"), default=30)
    lock = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("mobility settings")
        verbose_name_plural = _("mobility settings")
        constraints = [models.UniqueConstraint(fields=["store"], name="mobility_settings_one_per_store")]

    def __str__(self) -> str:
        return f"mobility settings {self.store_id}"


class Loaner(TenantModel):
    """A loaner car (代步车) of the store's small fleet."""

    plate = models.CharField(_("plate"), max_length=12)
    model_name = models.CharField(_("model"), max_length=60)
    energy = models.CharField(_("energy"), max_length=8, choices=Energy.choices, default=Energy.FUEL)
    status = models.CharField(_("status"), max_length=12, choices=LoanerStatus.choices, default=LoanerStatus.ACTIVE)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), default=0)
    level = models.PositiveSmallIntegerField(_("fuel or charge (%)"), default=100)

    class Meta:
        verbose_name = _("loaner car")
        verbose_name_plural = _("loaner cars")
        constraints = [models.UniqueConstraint(fields=["store", "plate"], name="loaner_plate_unique")]

    def __str__(self) -> str:
        return f"{self.plate} {self.model_name}"


class LoanerBooking(TenantModel):
    """A loaner lent to a customer from ``starts_on`` to ``ends_on`` (both included), usually
    with an appointment; hand-over and return record the level (fuel or charge %) and the
    odometer; the charges (days beyond the free ones, the missing level, damage) land on the
    repair order's bill as lines."""

    loaner = models.ForeignKey(Loaner, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("loaner car"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("customer"))  # fmt: skip
    appointment = models.ForeignKey("service.Appointment", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("appointment"))  # fmt: skip
    repair_order = models.ForeignKey("service.RepairOrder", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("repair order"))  # fmt: skip
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("service advisor"))  # fmt: skip
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    status = models.CharField(_("status"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.BOOKED)
    out_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    out_km = models.PositiveIntegerField(_("odometer at hand-over (km)"), null=True, blank=True)
    out_level = models.PositiveSmallIntegerField(_("level at hand-over (%)"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_km = models.PositiveIntegerField(_("odometer at return (km)"), null=True, blank=True)
    return_level = models.PositiveSmallIntegerField(_("level at return (%)"), null=True, blank=True)
    damage_note = models.CharField(_("damage"), max_length=300, blank=True)
    day_charge = models.DecimalField(_("extra days"), max_digits=10, decimal_places=2, default=Decimal("0"))
    level_charge = models.DecimalField(_("fuel or charge missing"), max_digits=10, decimal_places=2,
                                       default=Decimal("0"))  # fmt: skip
    damage_charge = models.DecimalField(_("damage charge"), max_digits=10, decimal_places=2, default=Decimal("0"))
    billed = models.BooleanField(_("on the bill"), default=False)

    scope_owner_field = "advisor"

    class Meta:
        verbose_name = _("loaner booking")
        verbose_name_plural = _("loaner bookings")
        indexes = [
            models.Index(fields=["store", "starts_on", "ends_on"], name="loaner_booking_days"),
            models.Index(fields=["loaner", "status"], name="loaner_booking_loaner"),
        ]

    def __str__(self) -> str:
        return f"{self.loaner_id} {self.starts_on}–{self.ends_on}"

    @property
    def total_charge(self) -> Decimal:
        return self.day_charge + self.level_charge + self.damage_charge


class LoanerPhoto(StoredUpload):
    """A photo of the loaner at hand-over or return (damage), stored by ``core.uploads``."""

    booking = models.ForeignKey(LoanerBooking, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(_("when"), max_length=10, choices=LoanerPhotoStage.choices)

    scope_owner_field = "booking__advisor"

    class Meta:
        verbose_name = _("loaner photo")
        verbose_name_plural = _("loaner photos")


class Errand(TenantModel):
    """A concierge errand (年检代办, 上门取送车): the customer and the car, the driver (a staff
    member), where and when to pick up and drop off; ``status`` moves requested → assigned →
    en route → done, or cancelled before it is done."""

    kind = models.CharField(_("errand"), max_length=12, choices=ErrandKind.choices)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("customer"))  # fmt: skip
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("vehicle"))  # fmt: skip
    driver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("driver"))  # fmt: skip
    pickup_address = models.CharField(_("pick-up address"), max_length=200)
    dropoff_address = models.CharField(_("drop-off address"), max_length=200)
    pickup_at = models.DateTimeField(_("pick-up time"))
    dropoff_at = models.DateTimeField(_("drop-off time"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ErrandStatus.choices,
                              default=ErrandStatus.REQUESTED)  # fmt: skip
    note = models.CharField(_("note"), max_length=300, blank=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    started_at = models.DateTimeField(_("left at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    scope_owner_field = "driver"

    class Meta:
        verbose_name = _("errand")
        verbose_name_plural = _("errands")
        indexes = [
            models.Index(fields=["store", "status", "pickup_at"], name="errand_store_status"),
            models.Index(fields=["store", "driver", "pickup_at"], name="errand_driver"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Rescue(TenantModel):
    """A roadside rescue (救援): where the car is (latitude/longitude and/or an address), whether
    that is inside the store's service area and how far, the arrival target, the crew
    (``technician``), and the times: dispatched → arrived → towed or fixed → closed, with the
    minutes actually taken to arrive and whether the target was met."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("customer"))  # fmt: skip
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("vehicle"))  # fmt: skip
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("rescue crew"))  # fmt: skip
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(_("location"), max_length=200, blank=True)
    problem = models.CharField(_("problem"), max_length=300, blank=True)
    distance_km = models.DecimalField(_("distance (km)"), max_digits=7, decimal_places=1, null=True, blank=True)
    inside_area = models.BooleanField(_("inside the service area"), null=True)
    target_minutes = models.PositiveSmallIntegerField(_("arrival target (minutes)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RescueStatus.choices,
                              default=RescueStatus.DISPATCHED)  # fmt: skip
    dispatched_at = models.DateTimeField(_("dispatched at"))
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("towed or fixed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    minutes_taken = models.PositiveIntegerField(_("minutes to arrive"), null=True, blank=True)
    target_met = models.BooleanField(_("target met"), null=True)

    scope_owner_field = "technician"

    class Meta:
        verbose_name = _("rescue")
        verbose_name_plural = _("rescues")
        indexes = [models.Index(fields=["store", "status", "dispatched_at"], name="rescue_store_status")]

    def __str__(self) -> str:
        return f"rescue #{self.pk}"
