"""Parts (配件): the store's catalogue with its stock balance, the stock ledger, reservations for
open repair orders, suppliers and purchase orders (ADR 0020).

A part is a store's row: its own price, cost, balance and reorder point. ``on_hand`` and
``reserved`` are a cached balance of the ledger (``StockMovement``), changed only by
``parts.services`` in the same transaction as the movement, with a conditional ``UPDATE … WHERE``
so that neither on-hand nor available (on-hand − reserved) ever goes below zero; the database's
CHECK constraints are the last line. Quantities are decimals with two places (litres of oil)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import Category, MovementKind, POStatus, ReservationStatus, Unit


class Supplier(TenantModel):
    """Who the store buys parts from, and how many days an order takes to arrive."""

    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact person"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    lead_time_days = models.PositiveSmallIntegerField(_("lead time (days)"), default=3)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")
        constraints = [models.UniqueConstraint(fields=["store", "name"], name="parts_supplier_name_in_store")]

    def __str__(self) -> str:
        return self.name


class Part(TenantModel):
    """One catalogue line of the store and its stock: part number (unique in the store), name,
    brand, unit, category, price, cost (hidden from roles without cost access), on-hand and
    reserved quantities, the reorder point and quantity, the preferred supplier."""

    part_number = models.CharField(_("part number"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=40, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PIECE)
    category = models.CharField(_("category"), max_length=12, choices=Category.choices, default=Category.OTHER)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    on_hand = models.DecimalField(_("on hand"), max_digits=12, decimal_places=2, default=Decimal("0"))
    reserved = models.DecimalField(_("reserved"), max_digits=12, decimal_places=2, default=Decimal("0"))
    reorder_point = models.DecimalField(_("reorder point"), max_digits=12, decimal_places=2, default=Decimal("0"))
    reorder_qty = models.DecimalField(_("reorder quantity"), max_digits=12, decimal_places=2, default=Decimal("0"))
    supplier = models.ForeignKey(
        Supplier, on_delete=models.SET_NULL, null=True, blank=True, related_name="parts", verbose_name=_("supplier")
    )
    # Set when the available quantity fell to the reorder point and the alert went out; cleared
    # when stock is back above it, so a part alerts once per crossing.
    low_alerted = models.BooleanField(_("low-stock alert sent"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        constraints = [
            models.UniqueConstraint(fields=["store", "part_number"], name="parts_part_number_in_store"),
            models.CheckConstraint(condition=models.Q(on_hand__gte=0), name="parts_on_hand_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="parts_reserved_not_negative"),
            models.CheckConstraint(condition=models.Q(reserved__lte=models.F("on_hand")), name="parts_available_not_negative"),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["store", "name"], name="parts_store_name"),
            models.Index(fields=["store", "category", "part_number"], name="parts_store_category"),
        ]

    def __str__(self) -> str:
        return f"{self.part_number} {self.name}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def is_low(self) -> bool:
        return self.reorder_point > 0 and self.available <= self.reorder_point


class Reservation(TenantModel):
    """Quantity of a part held for an open repair order (or any other ``reference``): it counts
    against available stock until it is issued or released. One open reservation per part and
    reference; reserving again adds to it."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    reference_kind = models.CharField(_("reference kind"), max_length=30)
    reference_id = models.BigIntegerField(_("reference ID"))
    status = models.CharField(
        _("status"), max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.UniqueConstraint(
                fields=["part", "reference_kind", "reference_id"], condition=models.Q(status="open"),
                name="parts_one_open_reservation",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="parts_reservation_not_negative"),
        ]  # fmt: skip
        indexes = [models.Index(fields=["store", "reference_kind", "reference_id"], name="parts_res_reference")]

    def __str__(self) -> str:
        return f"{self.part_id} × {self.quantity} for {self.reference_kind}:{self.reference_id}"


class PurchaseOrder(TenantModel):
    """An order to a supplier: draft → sent → partly received → received, or cancelled.
    Receiving writes receipt movements (``parts.services.po_receive``)."""

    number = models.CharField(_("number"), max_length=20, blank=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="orders", verbose_name=_("supplier"))
    status = models.CharField(_("status"), max_length=16, choices=POStatus.choices, default=POStatus.DRAFT)
    note = models.CharField(_("note"), max_length=200, blank=True)
    expected_date = models.DateField(_("expected on"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")
        indexes = [models.Index(fields=["store", "status", "-id"], name="parts_po_store_status")]

    def __str__(self) -> str:
        return self.number or f"PO {self.pk}"


class PurchaseOrderLine(TenantModel):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order"))
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+", verbose_name=_("part"))
    quantity = models.DecimalField(_("quantity ordered"), max_digits=12, decimal_places=2)
    received = models.DecimalField(_("quantity received"), max_digits=12, decimal_places=2, default=Decimal("0"))
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="parts_po_line_positive"),
            models.CheckConstraint(condition=models.Q(received__lte=models.F("quantity")), name="parts_po_line_not_over"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.order_id}: {self.part_id} × {self.quantity}"

    @property
    def outstanding(self) -> Decimal:
        return self.quantity - self.received


class StockMovement(TenantModel):
    """One row of the stock ledger (never changed, never deleted): the signed quantity, the
    on-hand balance after it, what it was for (``reference_kind``/``reference_id``: a repair order,
    a purchase order line, …), a reason for adjustments, the other store of a transfer."""

    audit_enabled = False  # the ledger is its own trail

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="movements", verbose_name=_("part"))
    kind = models.CharField(_("kind"), max_length=12, choices=MovementKind.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=2)
    on_hand_after = models.DecimalField(_("on hand after"), max_digits=12, decimal_places=2)
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    reference_kind = models.CharField(_("reference kind"), max_length=30, blank=True)
    reference_id = models.BigIntegerField(_("reference ID"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    other_store = models.ForeignKey(
        "tenancy.Store", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("other store"),
    )  # fmt: skip
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("by"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "idempotency_key"], condition=~models.Q(idempotency_key=""),
                name="parts_movement_idempotent",
            ),
            models.CheckConstraint(condition=models.Q(on_hand_after__gte=0), name="parts_movement_balance_not_negative"),
        ]  # fmt: skip
        indexes = [
            models.Index(fields=["part", "-id"], name="parts_movement_part"),
            models.Index(fields=["store", "-id"], name="parts_movement_store"),
            models.Index(fields=["store", "reference_kind", "reference_id"], name="parts_movement_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} of {self.part_id}"
