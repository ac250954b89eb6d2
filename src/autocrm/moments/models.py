"""Care moments (关怀时刻) and the car club (车友会): per-store triggers, the log of what they sent,
the weather warnings seen, club events and their registrations. Reads customers and vehicles;
writes only these tables (messages go through messaging's outbox)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import EventStatus, MomentKind, RegistrationSource, RegistrationStatus


class MomentTrigger(TenantModel):
    """One store's setting for one kind of moment: on or off, how many days before the date,
    the message template it sends and an optional gift (a key of the ``care.gifts`` registry).
    The weather trigger also names the store city's QWeather location id."""

    kind = models.CharField(_("moment"), max_length=12, choices=MomentKind.choices)
    is_active = models.BooleanField(_("on"), default=False)
    days_before = models.PositiveSmallIntegerField(_("days before"), default=0)
    template_code = models.SlugField(_("template"), max_length=60)
    gift = models.CharField(_("gift"), max_length=60, blank=True)
    location = models.CharField(_("weather location id"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("care moment trigger")
        verbose_name_plural = _("care moment triggers")
        constraints = [
            models.UniqueConstraint(fields=["store", "kind"], name="moment_trigger_unique"),
            models.CheckConstraint(condition=Q(days_before__lte=90), name="moment_trigger_days"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.store_id})"


class MomentSend(TenantModel):
    """What a trigger sent to whom, once per (moment, customer, occasion): the occasion is the
    year for yearly moments (``2026``), the holiday and its year (``2026-mid_autumn``), the due
    date for a due date, or the warning id. The unique key is what makes the nightly job safe
    to run twice; the message's own idempotency key repeats it."""

    kind = models.CharField(_("moment"), max_length=12, choices=MomentKind.choices)
    occasion = models.CharField(_("occasion"), max_length=60)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("customer")
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    due_on = models.DateField(_("date"))
    message = models.ForeignKey(
        "messaging.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    purpose = models.CharField(_("purpose"), max_length=12)
    gift = models.CharField(_("gift"), max_length=60, blank=True)
    gift_result = models.CharField(_("gift given"), max_length=200, blank=True)

    scope_owner_field = "customer__consultant"
    audit_enabled = False  # the log is itself the record (and the outbox keeps the message)

    class Meta:
        verbose_name = _("care moment sent")
        verbose_name_plural = _("care moments sent")
        constraints = [
            models.UniqueConstraint(fields=["store", "kind", "customer", "occasion"], name="moment_send_once")
        ]
        indexes = [models.Index(fields=["store", "-id"], name="moment_send_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.occasion} → {self.customer_id}"


class WeatherWarning(TenantModel):
    """A QWeather warning seen for the store's city; its tips go out once per warning id."""

    warning_id = models.CharField(_("warning id"), max_length=80)
    type_code = models.CharField(_("warning type"), max_length=10)
    type_name = models.CharField(_("warning type"), max_length=40, blank=True)
    severity = models.CharField(_("severity"), max_length=20, blank=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    hazard = models.CharField(_("hazard"), max_length=12, blank=True)  # rain, snow, heat, typhoon; "" ignored
    recipients = models.PositiveIntegerField(_("customers told"), default=0)

    class Meta:
        verbose_name = _("weather warning")
        verbose_name_plural = _("weather warnings")
        constraints = [models.UniqueConstraint(fields=["store", "warning_id"], name="weather_warning_once")]

    def __str__(self) -> str:
        return self.title


class ClubEvent(TenantModel):
    """A car-club event (车友会活动) of one store. ``seats_taken`` is the cached count of
    registered places, raised by one conditional UPDATE so two registrations for the last seat
    cannot both win (a CHECK constraint is the last line)."""

    title = models.CharField(_("title"), max_length=100)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0)
    attend_gift = models.CharField(_("gift for attending"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.OPEN)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("club event")
        verbose_name_plural = _("club events")
        constraints = [
            models.CheckConstraint(condition=Q(seats_taken__lte=F("capacity")), name="club_event_seats"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="club_event_capacity"),
        ]
        indexes = [models.Index(fields=["store", "starts_at", "id"], name="club_event_store_start")]

    def __str__(self) -> str:
        return self.title


class ClubRegistration(TenantModel):
    """One customer's place at an event, or their place on its waitlist (first come, first
    promoted when a seat frees up), and their check-in."""

    event = models.ForeignKey(ClubEvent, on_delete=models.CASCADE, related_name="registrations", db_index=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("customer")
    )
    status = models.CharField(_("status"), max_length=12, choices=RegistrationStatus.choices)
    source = models.CharField(_("source"), max_length=8, choices=RegistrationSource.choices)
    attended_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    gift_result = models.CharField(_("gift given"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("club registration")
        verbose_name_plural = _("club registrations")
        constraints = [models.UniqueConstraint(fields=["event", "customer"], name="club_registration_once")]
        indexes = [models.Index(fields=["event", "status", "id"], name="club_registration_event")]

    def __str__(self) -> str:
        return f"{self.event_id}:{self.customer_id}"
