"""After-sales service (售后服务): appointments with capacity, repair orders (维修工单) with their
jobs and part lines, the owner's estimate link, declined work to offer again, canned jobs
(维修套餐) and bills (结算单).

Every row carries ``store``. Appointments and repair orders are owned by their service advisor
(``scope_owner_field``); jobs, part lines, photos, status changes, estimate links and bills
follow their repair order's rule (``service.permissions``)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import StoredUpload, TenantModel

from .choices import (
    AppointmentStatus,
    Approval,
    BillStatus,
    DeclinedStatus,
    PaymentMethod,
    PhotoKind,
    Progress,
    RoStatus,
    ServiceType,
)

FEN = Decimal("0.01")


def default_durations() -> dict[str, int]:
    return {}


class ServiceSettings(TenantModel):
    """The store's workshop: bays (工位), how many customers an advisor receives per slot, the
    slot length, how many places of each slot are kept for priority customers (绿色通道), the
    labour rate, the tax rate (prices include VAT: 含税价), the comeback window (返修) and how
    long an estimate link stays valid. One row per store, defaults on first use
    (``service.selectors.settings_for``)."""

    bays = models.PositiveSmallIntegerField(_("bays"), default=4)
    advisor_capacity = models.PositiveSmallIntegerField(_("customers per advisor per slot"), default=2)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    priority_reserve = models.PositiveSmallIntegerField(_("places per slot kept for priority customers"), default=1)
    labour_rate = models.DecimalField(
        _("labour rate per hour"), max_digits=8, decimal_places=2, default=Decimal("180.00")
    )
    tax_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default=Decimal("0.1300"))
    comeback_days = models.PositiveSmallIntegerField(_("comeback window (days)"), default=30)
    estimate_link_hours = models.PositiveSmallIntegerField(_("estimate link valid for (hours)"), default=72)
    durations = models.JSONField(_("expected duration per service type (minutes)"), default=default_durations,
                                 blank=True)  # fmt: skip

    class Meta:
        verbose_name = _("service settings")
        verbose_name_plural = _("service settings")
        constraints = [models.UniqueConstraint(fields=["store"], name="service_settings_one_per_store")]

    def __str__(self) -> str:
        return f"service settings {self.store_id}"


class ServiceDay(TenantModel):
    """One row per store and day that bookings lock (an UPDATE first: the row lock on PostgreSQL,
    the write lock on SQLite), so two clients taking the last place are served one after the
    other and the second sees it taken."""

    day = models.DateField(_("day"))
    bookings = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("service day")
        verbose_name_plural = _("service days")
        constraints = [models.UniqueConstraint(fields=["store", "day"], name="service_day_unique")]

    def __str__(self) -> str:
        return f"{self.store_id} {self.day}"


class Appointment(TenantModel):
    """A booking (预约): who, which car, the advisor, the service type and its slot(s), the
    priority flag, pick-up & delivery (上门取送车) with its address and time. ``starts_at`` is a
    slot start; the booking holds ``slots`` consecutive slots of its day."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("customer"))  # fmt: skip
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("vehicle"))  # fmt: skip
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("service advisor"))  # fmt: skip
    service_type = models.CharField(_("service type"), max_length=12, choices=ServiceType.choices)
    day = models.DateField(_("day"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    slots = models.PositiveSmallIntegerField(_("slots"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)  # fmt: skip
    priority = models.BooleanField(_("priority"), default=False)
    pickup = models.BooleanField(_("pick-up and delivery"), default=False)
    pickup_address = models.CharField(_("pick-up address"), max_length=200, blank=True)
    pickup_at = models.DateTimeField(_("pick-up time"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)

    scope_owner_field = "advisor"

    class Meta:
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        indexes = [
            models.Index(fields=["store", "day", "status"], name="appt_store_day_status"),
            models.Index(fields=["store", "advisor", "starts_at"], name="appt_advisor_start"),
            models.Index(fields=["customer", "starts_at"], name="appt_customer_start"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} #{self.pk}"


class CannedJob(TenantModel):
    """A store's package (维修套餐, e.g. the 10,000 km service): labour jobs and parts that fill a
    repair order in one click. ``lines`` is a list of ``{"kind": "labour", "code", "name",
    "hours"}`` and ``{"kind": "part", "part_number", "name", "quantity", "unit_price"}``."""

    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    description = models.CharField(_("description"), max_length=300, blank=True)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("canned job")
        verbose_name_plural = _("canned jobs")
        constraints = [models.UniqueConstraint(fields=["store", "code"], name="canned_job_code_unique")]

    def __str__(self) -> str:
        return self.name


class RepairOrder(TenantModel):
    """A repair order (维修工单), from reception to delivery. ``status`` moves one step at a time
    (``service.services.repair_order_advance``); ``status_entered_at`` with the status changes
    gives the time in each status."""

    number = models.CharField(_("number"), max_length=24, blank=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="repair_orders", verbose_name=_("appointment"))  # fmt: skip
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("customer"))  # fmt: skip
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("vehicle"))  # fmt: skip
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("service advisor"))  # fmt: skip
    status = models.CharField(_("status"), max_length=20, choices=RoStatus.choices, default=RoStatus.RECEIVED)
    status_entered_at = models.DateTimeField(_("in this status since"), default=timezone.now)
    odometer_km = models.PositiveIntegerField(_("odometer (km)"), null=True, blank=True)
    complaint = models.TextField(_("complaint"), max_length=2000, blank=True)
    priority = models.BooleanField(_("priority"), default=False)
    senior_technician = models.BooleanField(_("senior technician asked for"), default=False)
    is_comeback = models.BooleanField(_("comeback"), default=False)
    recall_codes = models.JSONField(_("recall campaigns"), default=list, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    promised_at = models.DateTimeField(_("promised for"), null=True, blank=True)
    closed_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    scope_owner_field = "advisor"

    class Meta:
        verbose_name = _("repair order")
        verbose_name_plural = _("repair orders")
        indexes = [
            models.Index(fields=["store", "status", "status_entered_at"], name="ro_store_status"),
            models.Index(fields=["store", "advisor", "-updated_at"], name="ro_advisor_list"),
            # the store's list (managers, the workshop): newest change first, keyset on (updated_at, id)
            models.Index(fields=["store", "-updated_at", "-id"], name="ro_store_updated"),
            models.Index(fields=["vehicle", "received_at"], name="ro_vehicle_received"),
            models.Index(fields=["customer", "received_at"], name="ro_customer_received"),
            models.Index(fields=["store", "closed_at"], name="ro_store_closed"),
            # the service KPIs' first-time fix is driven by the few comeback ROs (ADR 0026)
            models.Index(fields=["store", "received_at"], condition=models.Q(is_comeback=True), name="ro_comeback"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


class RepairOrderStatusChange(TenantModel):
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=20, choices=RoStatus.choices)
    to_status = models.CharField(_("to"), max_length=20, choices=RoStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["repair_order", "at"], name="ro_change_at")]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Job(TenantModel):
    """A labour line: job code, hours × rate (Decimal, the amount to the fen), the technician,
    the owner's approval, progress and findings. ``is_comeback``: the same job code was done
    on the same vehicle within the store's comeback window (返修)."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="jobs")
    code = models.CharField(_("job code"), max_length=30)
    name = models.CharField(_("job"), max_length=100)
    hours = models.DecimalField(_("labour hours"), max_digits=6, decimal_places=2)
    rate = models.DecimalField(_("labour rate"), max_digits=8, decimal_places=2)
    technician = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("technician"))  # fmt: skip
    approval = models.CharField(_("owner's answer"), max_length=10, choices=Approval.choices,
                                default=Approval.PENDING)  # fmt: skip
    progress = models.CharField(_("progress"), max_length=12, choices=Progress.choices, default=Progress.WAITING)
    findings = models.TextField(_("findings"), max_length=2000, blank=True)
    is_comeback = models.BooleanField(_("comeback"), default=False)
    canned_job = models.ForeignKey(CannedJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        indexes = [
            models.Index(fields=["store", "technician", "progress"], name="job_technician"),
            models.Index(fields=["store", "code"], name="job_store_code"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def amount(self) -> Decimal:
        from .billing import line_amount

        return line_amount(self.hours, self.rate)


class PartLine(TenantModel):
    """A part on the repair order: part number, name, quantity × unit price, the owner's answer.
    A line with ``part`` comes from the store's stock: reserved for the repair order when added
    (``parts.services.stock_reserve``, 409 when not in stock), released when the owner declines
    it, issued when the car goes to the quality check (``issued``), the rest released on delivery."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="part_lines")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="part_lines")
    part = models.ForeignKey("parts.Part", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("part from stock"))  # fmt: skip
    part_number = models.CharField(_("part number"), max_length=40, blank=True)
    name = models.CharField(_("part"), max_length=100)
    quantity = models.DecimalField(_("quantity"), max_digits=8, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    approval = models.CharField(_("owner's answer"), max_length=10, choices=Approval.choices,
                                default=Approval.PENDING)  # fmt: skip
    issued = models.BooleanField(_("issued from stock"), default=False)
    canned_job = models.ForeignKey(CannedJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("part line")
        verbose_name_plural = _("part lines")

    def __str__(self) -> str:
        return self.name

    @property
    def amount(self) -> Decimal:
        from .billing import line_amount

        return line_amount(self.quantity, self.unit_price)


class JobPhoto(StoredUpload):
    """A photo of a job: a finding, or a replaced part shown to the owner (旧件展示). The bytes
    are stored by ``core.uploads``; served through the repair order's page or the estimate link."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="photos")
    kind = models.CharField(_("kind"), max_length=16, choices=PhotoKind.choices, default=PhotoKind.FINDING)

    scope_owner_field = "job__repair_order__advisor"

    class Meta:
        verbose_name = _("job photo")
        verbose_name_plural = _("job photos")


class EstimateLink(TenantModel):
    """A signed, expiring, one-purpose link the owner opens without a login: the estimate to
    approve or decline line by line (once: ``used_at``), then the job-by-job progress with the
    photos. The URL carries ``django.core.signing`` of the id and ``nonce``; a new link for the
    same repair order replaces the old one (``revoked_at``)."""

    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="estimate_links")
    nonce = models.CharField(max_length=32, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("estimate link")
        verbose_name_plural = _("estimate links")

    def __str__(self) -> str:
        return f"estimate link {self.pk}"


class DeclinedWork(TenantModel):
    """Work the owner declined on an estimate: a reminder to offer it again at a later visit
    (the customer 360 page and the advisor's home show the open ones)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.CASCADE, related_name="+")
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="declined")
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")  # fmt: skip
    description = models.CharField(_("work"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=8, choices=DeclinedStatus.choices, default=DeclinedStatus.OPEN)

    scope_owner_field = "advisor"

    class Meta:
        verbose_name = _("declined work")
        verbose_name_plural = _("declined work")
        indexes = [
            models.Index(fields=["customer", "status"], name="declined_customer"),
            models.Index(fields=["store", "advisor", "status"], name="declined_advisor"),
        ]

    def __str__(self) -> str:
        return self.description


class Bill(TenantModel):
    """The bill (结算单) of a repair order: approved labour and parts, the discounts the
    registered rules gave (``service.discounts``), VAT contained in the total, payment status
    and method. Amounts are frozen when the bill is made."""

    repair_order = models.OneToOneField(RepairOrder, on_delete=models.CASCADE, related_name="bill")
    number = models.CharField(_("number"), max_length=24, blank=True)
    labour_total = models.DecimalField(_("labour"), max_digits=12, decimal_places=2)
    parts_total = models.DecimalField(_("parts"), max_digits=12, decimal_places=2)
    discount_total = models.DecimalField(_("discounts"), max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    tax = models.DecimalField(_("VAT included"), max_digits=12, decimal_places=2)
    discounts = models.JSONField(_("discount lines"), default=list, blank=True)
    status = models.CharField(_("payment status"), max_length=8, choices=BillStatus.choices,
                              default=BillStatus.UNPAID)  # fmt: skip
    method = models.CharField(_("payment method"), max_length=10, choices=PaymentMethod.choices, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        indexes = [models.Index(fields=["store", "status", "-created_at"], name="bill_store_status")]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


# --- prepaid plans, extended warranty, accessories, insurer direct billing (service.plans, ------
# --- service.accessories, service.insurance; ADR 0025) ------------------------------------------

from .choices_plans import (  # noqa: E402  (kept with the models they serve, for easy merges)
    AccessoryCategory,
    ClaimStatus,
    PlanKind,
    PlanSource,
    ShareKind,
    VehiclePlanStatus,
)


class PlanProduct(TenantModel):
    """A plan the store sells or gives with a car: a prepaid maintenance plan (保养套餐) of
    ``services`` visits covering the jobs in ``covered_codes`` (and their parts when
    ``cover_parts``), valid ``validity_months``; or an extended warranty (延保) of
    ``warranty_years`` / ``warranty_km`` covering the repairs in ``covered_codes``.
    ``give_with_delivery``: every car the store delivers gets one (free)."""

    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=PlanKind.choices, default=PlanKind.MAINTENANCE)
    services = models.PositiveSmallIntegerField(_("services included"), null=True, blank=True)
    validity_months = models.PositiveSmallIntegerField(_("valid for (months)"), default=24)
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    covered_codes = models.JSONField(_("covered job codes"), default=list, blank=True)
    cover_parts = models.BooleanField(_("parts of covered jobs included"), default=True)
    warranty_km = models.PositiveIntegerField(_("warranty distance (km)"), null=True, blank=True)
    coverage = models.CharField(_("coverage"), max_length=300, blank=True)
    give_with_delivery = models.BooleanField(_("given with every delivered car"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("plan product")
        verbose_name_plural = _("plan products")
        constraints = [models.UniqueConstraint(fields=["store", "code"], name="plan_product_code_unique")]

    def __str__(self) -> str:
        return self.name


class VehiclePlan(TenantModel):
    """A plan a vehicle holds: its balance (``remaining`` of ``services_total``; none for a
    warranty), validity (``starts_on`` → ``expires_on``; a warranty also ends at ``km_limit``),
    what was paid, and its cancellation with the refund (audited)."""

    product = models.ForeignKey(PlanProduct, on_delete=models.PROTECT, related_name="vehicle_plans",
                                verbose_name=_("plan"))  # fmt: skip
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("vehicle"))  # fmt: skip
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("customer"))  # fmt: skip
    source = models.CharField(_("source"), max_length=12, choices=PlanSource.choices, default=PlanSource.AFTERSALES)
    price = models.DecimalField(_("price paid"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    services_total = models.PositiveSmallIntegerField(_("services included"), null=True, blank=True)
    remaining = models.PositiveSmallIntegerField(_("services left"), null=True, blank=True)
    starts_on = models.DateField(_("starts on"))
    expires_on = models.DateField(_("expires on"))
    km_limit = models.PositiveIntegerField(_("valid up to (km)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=VehiclePlanStatus.choices, default=VehiclePlanStatus.ACTIVE
    )
    sold_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("sold by"))  # fmt: skip
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason"), max_length=200, blank=True)
    refund = models.DecimalField(_("refund"), max_digits=10, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("vehicle plan")
        verbose_name_plural = _("vehicle plans")
        indexes = [
            models.Index(fields=["vehicle", "status"], name="vplan_vehicle_status"),
            models.Index(fields=["store", "status", "expires_on"], name="vplan_store_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__isnull=True) | models.Q(remaining__lte=models.F("services_total")),
                name="vplan_remaining_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.vehicle_id}"


class PlanUse(TenantModel):
    """One visit consumed from a plan on a repair order: the unique pair makes the consumption
    happen once per repair order however often its bill is made again."""

    vehicle_plan = models.ForeignKey(VehiclePlan, on_delete=models.PROTECT, related_name="uses")
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="plan_uses")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("plan use")
        verbose_name_plural = _("plan uses")
        constraints = [models.UniqueConstraint(fields=["vehicle_plan", "repair_order"], name="plan_use_once")]

    def __str__(self) -> str:
        return f"{self.vehicle_plan_id} @ {self.repair_order_id}"


class Accessory(TenantModel):
    """An accessory or modification (精品/改装) of the store's list, optionally a part of the
    catalogue; ``cost`` (and so the margin) is shown only to roles with ``margin``."""

    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=14, choices=AccessoryCategory.choices,
                                default=AccessoryCategory.ACCESSORY)  # fmt: skip
    part = models.ForeignKey("parts.Part", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("part from stock"))  # fmt: skip
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    price = models.DecimalField(_("price"), max_digits=10, decimal_places=2)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("accessory")
        verbose_name_plural = _("accessories")
        constraints = [models.UniqueConstraint(fields=["store", "code"], name="accessory_code_unique")]

    def __str__(self) -> str:
        return self.name


class AccessorySale(TenantModel):
    """An accessory sold on a repair order: its part line on the bill, the cost frozen."""

    accessory = models.ForeignKey(Accessory, on_delete=models.PROTECT, related_name="sales")
    part_line = models.OneToOneField(PartLine, on_delete=models.CASCADE, related_name="accessory_sale")
    repair_order = models.ForeignKey(RepairOrder, on_delete=models.CASCADE, related_name="accessory_sales")
    vehicle = models.ForeignKey("vehicles.Vehicle", on_delete=models.PROTECT, related_name="+")
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=2)

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("accessory sale")
        verbose_name_plural = _("accessory sales")
        indexes = [models.Index(fields=["vehicle"], name="accessory_sale_vehicle")]

    def __str__(self) -> str:
        return f"{self.accessory_id} @ {self.repair_order_id}"


class InsuranceClaim(TenantModel):
    """Insurer direct billing (直赔) of an accident repair: the insurer, the claim number and the
    insurer's share (an amount, or a percentage of the bill); when the bill is made the two
    shares are frozen to the fen (``insurer_amount`` + ``owner_amount`` = the bill's total) and
    the insurer's receivable waits (pending → paid)."""

    repair_order = models.OneToOneField(RepairOrder, on_delete=models.CASCADE, related_name="insurance_claim")
    insurer = models.CharField(_("insurer"), max_length=60)
    claim_number = models.CharField(_("claim number"), max_length=40)
    share_kind = models.CharField(_("insurer's share as"), max_length=8, choices=ShareKind.choices)
    share_value = models.DecimalField(_("insurer's share"), max_digits=12, decimal_places=2)
    insurer_amount = models.DecimalField(_("insurer pays"), max_digits=12, decimal_places=2, null=True, blank=True)
    owner_amount = models.DecimalField(_("owner pays"), max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("insurance claim")
        verbose_name_plural = _("insurance claims")
        indexes = [models.Index(fields=["store", "status", "-created_at"], name="claim_store_status")]

    def __str__(self) -> str:
        return f"{self.insurer} {self.claim_number}"


from .models_kpis import CostBasis, ServiceCosts  # noqa: E402, F401  (the KPIs' cost basis, ADR 0026)

# --- digital inspection at reception (数字化环车检查) ------------------------------------------


class InspectionRating(models.TextChoices):
    """Each checklist item's colour: fine, watch / soon, needs work now."""

    UNCHECKED = "", _("Not checked")
    GREEN = "green", _("Good")
    AMBER = "amber", _("Soon")
    RED = "red", _("Now")


def default_inspection_items() -> list[dict[str, str]]:
    return []


class InspectionTemplate(TenantModel):
    """The store's checklist (环车检查表): ``items`` is a list of ``{"area", "label", "photo",
    "canned_job"}`` in order (``photo``: a colour needs a photo; ``canned_job``: the work a finding
    becomes by default); the default (``service.inspection.DEFAULT_ITEMS``, in Chinese) is written on first use."""

    items = models.JSONField(_("checklist items"), default=default_inspection_items, blank=True)

    class Meta:
        verbose_name = _("inspection checklist")
        verbose_name_plural = _("inspection checklists")
        constraints = [models.UniqueConstraint(fields=["store"], name="inspection_template_one_per_store")]

    def __str__(self) -> str:
        return f"inspection checklist {self.store_id}"


class Inspection(TenantModel):
    """The walk-round inspection of a repair order at reception: the store's checklist copied
    item by item, filled with a colour, a note and photos."""

    repair_order = models.OneToOneField(RepairOrder, on_delete=models.CASCADE, related_name="inspection")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+", verbose_name=_("inspected by"))  # fmt: skip

    scope_owner_field = "repair_order__advisor"

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self) -> str:
        return f"inspection {self.repair_order_id}"


class InspectionItem(TenantModel):
    """One checklist line: its area and label, the colour, the advisor's note, and the job it
    became on the estimate (``job``) once the advisor added the recommended work."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    area = models.CharField(_("area"), max_length=40)
    label = models.CharField(_("item"), max_length=100)
    rating = models.CharField(_("rating"), max_length=5, choices=InspectionRating.choices, blank=True, default="")
    note = models.CharField(_("note"), max_length=500, blank=True)
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                            verbose_name=_("recommended work added"))  # fmt: skip
    # Copied from the store's checklist when the inspection starts (the editor, ADR 0031).
    photo_required = models.BooleanField(_("photo required"), default=False)
    canned_job = models.ForeignKey(CannedJob, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("default recommended work"))  # fmt: skip

    scope_owner_field = "inspection__repair_order__advisor"

    class Meta:
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")
        indexes = [models.Index(fields=["inspection", "position"], name="inspection_item_pos")]

    def __str__(self) -> str:
        return self.label


class InspectionPhoto(StoredUpload):
    """A photo of an inspection item, stored by ``core.uploads``; served through the repair
    order's page (permission first) or the owner's estimate link."""

    item = models.ForeignKey(InspectionItem, on_delete=models.CASCADE, related_name="photos")

    scope_owner_field = "item__inspection__repair_order__advisor"

    class Meta:
        verbose_name = _("inspection photo")
        verbose_name_plural = _("inspection photos")


# Mobility services (issue 14 item 1b, ADR 0023): loaners, errands, rescue.
from .models_mobility import (  # noqa: E402, F401
    Errand,
    Loaner,
    LoanerBooking,
    LoanerPhoto,
    MobilitySettings,
    Rescue,
)
