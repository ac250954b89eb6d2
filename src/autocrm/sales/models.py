"""Sales (销售): deals through their stages with the evidence each needs, test drives, quotes,
needs analyses, trade-in appraisals, and the store's new-car stock.

Every row carries ``store``. A deal is owned by its consultant (``scope_owner_field``); its
documents, stage changes, needs analysis and trade-in follow the deal's rule
(``sales.permissions``). Stock is the store's, not a consultant's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.fields import EncryptedTextField
from autocrm.core.models import StoredUpload, TenantModel

from .choices import (
    DealStatus,
    DocumentKind,
    PurchaseType,
    Purpose,
    QuoteStatus,
    Sensitivity,
    Stage,
    StockStatus,
    TestDriveStatus,
)


def default_skippable() -> list[str]:
    return [Stage.TEST_DRIVE.value, Stage.FINANCE.value]


def default_authority() -> dict[str, str]:
    return {"sales": "3000.00", "sales_manager": "10000.00"}


def default_ageing() -> list[int]:
    return [60, 90, 120]


class SalesSettings(TenantModel):
    """The store's sales rules: which stages may be skipped (a store without demo cars skips the
    test drive; a cash purchase the finance stage), the discount each role may give without
    approval (yuan, as decimal strings; a role not listed may give none, the store manager any),
    and the stock ages in days at which a car is flagged (库龄). One row per store, made with
    the defaults on first use (``sales.selectors.settings_for``)."""

    skippable_stages = models.JSONField(_("stages that may be skipped"), default=default_skippable, blank=True)
    discount_authority = models.JSONField(_("discount authority per role"), default=default_authority, blank=True)
    ageing_days = models.JSONField(_("stock ageing alerts (days)"), default=default_ageing, blank=True)

    class Meta:
        verbose_name = _("sales settings")
        verbose_name_plural = _("sales settings")
        constraints = [models.UniqueConstraint(fields=["store"], name="sales_settings_one_per_store")]

    def __str__(self) -> str:
        return f"sales settings {self.store_id}"


class StockVehicle(TenantModel):
    """A new car the store holds (库存): VIN, model, colour, arrival date, status. ``cost`` (the
    purchase price from the maker) is hidden from roles without cost access; ageing is counted
    from ``arrival_date``. Demo cars (试驾车) are stock with the demo status: test drives book them."""

    vin = models.CharField(_("VIN"), max_length=17)
    series = models.ForeignKey(
        "vehicles.Series", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("series")
    )
    model_name = models.CharField(_("model"), max_length=100)
    vehicle_class = models.CharField(_("class"), max_length=20, blank=True)
    colour = models.CharField(_("colour"), max_length=20, blank=True)
    arrival_date = models.DateField(_("arrival date"))
    status = models.CharField(_("status"), max_length=10, choices=StockStatus.choices, default=StockStatus.IN_STOCK)
    list_price = models.DecimalField(_("list price"), max_digits=12, decimal_places=2, null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("stock vehicle")
        verbose_name_plural = _("stock vehicles")
        constraints = [models.UniqueConstraint(fields=["store", "vin"], name="stock_vin_unique_in_store")]
        indexes = [models.Index(fields=["store", "status", "arrival_date"], name="stock_store_status_age")]

    def __str__(self) -> str:
        return f"{self.model_name} {self.vin[-6:]}"

    def age_days(self, today: object = None) -> int:
        day = today or timezone.localdate()
        return (day - self.arrival_date).days  # type: ignore[operator]


class Deal(TenantModel):
    """One sale in progress, from the lead to delivery (交车). ``stage`` moves only forward, through
    ``sales.services.deal_advance`` which checks each stage's evidence; ``customer`` is set when
    known and at the latest on delivery; ``vehicle`` is the car registered at delivery."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("customer"),
    )  # fmt: skip
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("sales consultant"),
    )  # fmt: skip
    name = models.CharField(_("customer name"), max_length=100, blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.LEAD)
    status = models.CharField(_("status"), max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    stage_entered_at = models.DateTimeField(_("in this stage since"), default=timezone.now)
    model_interest = models.CharField(_("model of interest"), max_length=100, blank=True)
    series = models.ForeignKey(
        "vehicles.Series", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("series")
    )
    stock_vehicle = models.ForeignKey(
        StockVehicle, on_delete=models.PROTECT, null=True, blank=True, related_name="deals",
        verbose_name=_("stock vehicle"),
    )  # fmt: skip
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("delivered vehicle"),
    )  # fmt: skip
    agreed_price = models.DecimalField(_("agreed price"), max_digits=12, decimal_places=2, null=True, blank=True)
    purchase_type = models.CharField(
        _("purchase type"), max_length=12, choices=PurchaseType.choices, blank=True, default=""
    )
    finance_approved_at = models.DateTimeField(_("finance approved at"), null=True, blank=True)
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    insurer = models.CharField(_("insurer"), max_length=60, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    planned_delivery = models.DateField(_("planned delivery date"), null=True, blank=True)
    external_id = models.CharField(_("external ID"), max_length=64, blank=True)

    scope_owner_field = "consultant"

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], condition=~models.Q(external_id=""), name="deal_external_id_unique"
            )
        ]
        indexes = [
            models.Index(fields=["store", "consultant", "status", "-updated_at"], name="deal_consultant_list"),
            models.Index(fields=["store", "stage", "-updated_at"], name="deal_store_stage"),
            models.Index(fields=["customer", "delivered_at"], name="deal_customer_delivered"),
            models.Index(
                fields=["store", "status", "delivered_at"], name="deal_store_delivered"
            ),  # the KPIs' deliveries
        ]

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"

    @property
    def gross_profit(self) -> Decimal | None:
        """Agreed price minus the stock car's cost, when both are known (单车毛利)."""
        if self.agreed_price is None or self.stock_vehicle is None or self.stock_vehicle.cost is None:
            return None
        return self.agreed_price - self.stock_vehicle.cost


class DealStageChange(TenantModel):
    """One move of a deal: from, to, the stages skipped on the way, who and when."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(_("from"), max_length=12, choices=Stage.choices)
    to_stage = models.CharField(_("to"), max_length=12, choices=Stage.choices)
    skipped = models.JSONField(_("stages skipped"), default=list, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)

    scope_owner_field = "deal__consultant"

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["deal", "at"], name="stagechange_deal_at")]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


class DealDocument(StoredUpload):
    """A file attached to a deal as evidence (a signed contract, the condition sheet) or a photo
    (a driving licence, a trade-in). The bytes are stored by ``core.uploads`` (checked by content,
    encrypted); they are served only through the deal's page after its permission check."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)

    scope_owner_field = "deal__consultant"

    class Meta:
        verbose_name = _("deal document")
        verbose_name_plural = _("deal documents")
        indexes = [models.Index(fields=["deal", "kind"], name="dealdocument_deal_kind")]


class TestDrive(TenantModel):
    """A test drive (试乘试驾) of one demo car: route and time, the driver's licence (number
    checked, photo kept), and what the customer said: feedback, the competitor considered and how
    price sensitive they seemed. Two booked drives of one car never overlap."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="test_drives")
    vehicle = models.ForeignKey(StockVehicle, on_delete=models.PROTECT, related_name="test_drives")
    route = models.CharField(_("route"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=10, choices=TestDriveStatus.choices, default="booked")
    licence_number = EncryptedTextField(_("driving licence number"), mask="autocrm.core.masking.mask_id_number")
    licence_photo = models.ForeignKey(
        DealDocument, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("licence photo"),
    )  # fmt: skip
    feedback = models.TextField(_("feedback"), blank=True)
    competitor = models.CharField(_("competitor considered"), max_length=100, blank=True)
    price_sensitivity = models.CharField(
        _("price sensitivity"), max_length=8, choices=Sensitivity.choices, blank=True, default=""
    )

    scope_owner_field = "deal__consultant"

    class Meta:
        verbose_name = _("test drive")
        verbose_name_plural = _("test drives")
        indexes = [models.Index(fields=["vehicle", "starts_at"], name="testdrive_vehicle_start")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                              name="testdrive_ends_after_start")]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.vehicle} {self.starts_at:%Y-%m-%d %H:%M}"


class Quote(TenantModel):
    """A price offer (报价): vehicle price, options, discount, trade-in value, insurance and a
    finance plan with its monthly payment and total interest, all computed to the fen by
    ``sales.pricing`` when the quote is made. A discount above the maker's authority waits for
    a manager's approval."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="quotes")
    vehicle_price = models.DecimalField(_("vehicle price"), max_digits=12, decimal_places=2)
    options = models.JSONField(_("options"), default=list, blank=True)  # [{"name": str, "price": "1.00"}]
    options_total = models.DecimalField(_("options total"), max_digits=12, decimal_places=2, default=Decimal("0"))
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    trade_in_value = models.DecimalField(_("trade-in value"), max_digits=12, decimal_places=2, default=Decimal("0"))
    insurance = models.DecimalField(_("insurance"), max_digits=12, decimal_places=2, default=Decimal("0"))
    insurer = models.CharField(_("insurer"), max_length=60, blank=True)
    total_price = models.DecimalField(_("total price"), max_digits=12, decimal_places=2)
    down_payment = models.DecimalField(_("down payment"), max_digits=12, decimal_places=2, default=Decimal("0"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"), default=0)
    annual_rate = models.DecimalField(_("annual rate (%)"), max_digits=6, decimal_places=3, default=Decimal("0"))
    financed_amount = models.DecimalField(_("financed amount"), max_digits=12, decimal_places=2, default=Decimal("0"))
    monthly_payment = models.DecimalField(_("monthly payment"), max_digits=12, decimal_places=2, default=Decimal("0"))
    total_interest = models.DecimalField(_("total interest"), max_digits=12, decimal_places=2, default=Decimal("0"))
    status = models.CharField(_("status"), max_length=18, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    scope_owner_field = "deal__consultant"

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [
            models.Index(fields=["deal", "-created_at"], name="quote_deal_recent"),
            models.Index(fields=["store", "status"], name="quote_store_status"),
        ]

    def __str__(self) -> str:
        return f"{self.total_price}"


class NeedsAnalysis(TenantModel):
    """What the customer wants (需求分析): budget range, purpose, body and fuel preference, options
    wanted, brands considered, and whether the car is their first, an additional one or a
    replacement. One per deal."""

    deal = models.OneToOneField(Deal, on_delete=models.CASCADE, related_name="needs")
    budget_min = models.DecimalField(_("budget from"), max_digits=12, decimal_places=2, null=True, blank=True)
    budget_max = models.DecimalField(_("budget to"), max_digits=12, decimal_places=2, null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices, blank=True, default="")
    body_preference = models.CharField(_("body type"), max_length=20, blank=True)
    fuel_preference = models.CharField(_("fuel type"), max_length=10, blank=True)
    options_wanted = models.JSONField(_("options wanted"), default=list, blank=True)
    brands_considered = models.JSONField(_("brands considered"), default=list, blank=True)
    purchase_type = models.CharField(
        _("purchase type"), max_length=12, choices=PurchaseType.choices, blank=True, default=""
    )
    price_sensitivity = models.CharField(
        _("price sensitivity"), max_length=8, choices=Sensitivity.choices, blank=True, default=""
    )

    scope_owner_field = "deal__consultant"

    class Meta:
        verbose_name = _("needs analysis")
        verbose_name_plural = _("needs analyses")

    def __str__(self) -> str:
        return f"needs of deal {self.deal_id}"


class TradeIn(TenantModel):
    """A trade-in appraisal (二手车评估) of the customer's current car: plate, VIN, model, mileage,
    condition, photos (documents of the deal) and the price offered, which the next quote takes."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="trade_ins")
    plate = models.CharField(_("plate"), max_length=10, blank=True)
    vin = models.CharField(_("VIN"), max_length=17, blank=True)
    model_name = models.CharField(_("model"), max_length=100)
    mileage_km = models.PositiveIntegerField(_("mileage (km)"), null=True, blank=True)
    condition = models.TextField(_("condition"), blank=True)
    offered_price = models.DecimalField(_("offered price"), max_digits=12, decimal_places=2)
    photos = models.ManyToManyField(DealDocument, blank=True, related_name="+")

    scope_owner_field = "deal__consultant"

    class Meta:
        verbose_name = _("trade-in appraisal")
        verbose_name_plural = _("trade-in appraisals")

    def __str__(self) -> str:
        return f"{self.model_name} {self.offered_price}"


class SalesScript(TenantModel):
    """One entry of the store's sales-script library (话术库): a customer's objection and the answer
    that works, optionally for one model or series and against one competitor, with tags.
    Consultants search it from the lead page; sales managers keep it."""

    objection = models.TextField(_("objection"))
    answer = models.TextField(_("answer"))
    model_name = models.CharField(_("model"), max_length=100, blank=True)
    series = models.ForeignKey(
        "vehicles.Series", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("series")
    )
    competitor = models.CharField(_("competitor"), max_length=100, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    # the tags as one text, so a search matches them as typed on every database (JSON text
    # escapes Chinese on SQLite)
    tag_text = models.CharField(max_length=700, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("sales script")
        verbose_name_plural = _("sales scripts")
        indexes = [models.Index(fields=["store", "-updated_at"], name="salesscript_store_recent")]

    def __str__(self) -> str:
        return self.objection[:40]

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.tag_text = " ".join(str(t) for t in (self.tags or []))[:700]
        super().save(*args, **kwargs)
