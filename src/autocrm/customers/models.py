from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.fields import BlindIndexField, EncryptedTextField, EqualityIndex
from autocrm.core.models import TenantModel

from .choices import (
    Channel,
    ConsentPurpose,
    CustomerKind,
    DuplicateStatus,
    Gender,
    IncomeBand,
    LifecycleStage,
    Relation,
    SourceChannel,
)


class Tag(TenantModel):
    """An interest or marketing tag of one store (golf, self-drive travel, 价格敏感…)."""

    name = models.CharField(_("name"), max_length=40)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["store", "name"], name="tag_unique_name_in_store")]

    def __str__(self) -> str:
        return self.name


class Customer(TenantModel):
    """A person or company the store deals with — one customer, one record (统一客户视图).

    Mobile, ID number and street address are encrypted; blind indexes make exact lookups by
    mobile and ID number possible. The name's pinyin (full and initials) is kept for search.
    A sales consultant sees the customers assigned to them (``consultant``)."""

    # Every index of the table leads with the store: no index of its own (each one costs every import).
    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(max_length=200, blank=True, editable=False)
    name_initials = models.CharField(max_length=60, blank=True, editable=False)
    mobile = EncryptedTextField(_("mobile"), mask="autocrm.core.masking.mask_mobile")
    mobile_index = BlindIndexField(source="mobile", normalizer="autocrm.core.normalize.normalize_mobile")
    mobile_last4 = models.CharField(max_length=4, blank=True, editable=False)
    other_phones = EncryptedTextField(_("other phones"), mask="autocrm.core.masking.mask_generic")
    # Duplicate evidence (docs/adr/0002): the first mobile among the other phones (a changed
    # mobile is kept there) and the address's street + number (人民路208), as blind indexes.
    other_phone_index = BlindIndexField(
        source="other_phones", normalizer="autocrm.core.normalize.normalize_other_phone"
    )
    wechat_id = models.CharField(_("WeChat ID"), max_length=60, blank=True)
    email = models.EmailField(_("email"), blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    licence_expiry = models.DateField(_("driving licence expiry"), null=True, blank=True)
    id_number = EncryptedTextField(_("ID number"), mask="autocrm.core.masking.mask_id_number")
    id_number_index = BlindIndexField(source="id_number", normalizer="autocrm.core.normalize.normalize_id_number")
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = EncryptedTextField(_("street address"), mask="autocrm.core.masking.mask_address")
    address_key = BlindIndexField(source="address", normalizer="autocrm.core.addresses.street_key")
    community = models.CharField(_("residential community"), max_length=60, blank=True)
    occupation = models.CharField(_("occupation"), max_length=60, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    income_band = models.CharField(_("income band"), max_length=10, choices=IncomeBand.choices, blank=True, default="")
    preferred_channel = models.CharField(_("preferred channel"), max_length=10, choices=Channel.choices, blank=True)
    quiet_hours_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_hours_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    # PIPL Art. 24: the customer refused marketing chosen for them by a segment or a score.
    personalised_marketing_opt_out = models.BooleanField(_("no personalised marketing"), default=False)
    source_channel = models.CharField(
        _("source channel"), max_length=20, choices=SourceChannel.choices, blank=True, default=""
    )
    consultant = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("sales consultant"), db_index=False,
    )  # fmt: skip
    advisor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("service advisor"), db_index=False,
    )  # fmt: skip
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=12, choices=LifecycleStage.choices, default=LifecycleStage.PROSPECT
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    external_id = models.CharField(_("external ID"), max_length=64, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    is_minor = models.BooleanField(_("under 14"), default=False)

    scope_owner_field = "consultant"

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Each index is paid for by every insert (an import of 100,000 rows spends most of its
        # database time here), so there are no twins: pinyin and initials prefix search has
        # PostgreSQL varchar_pattern_ops indexes (migration 0003; SQLite gets plain ones in 0004);
        # the name is found through the GIN index on its characters and character pairs (0012,
        # docs/adr/0042; ``search.name_condition``); a consultant's own list and the links to users and to the
        # survivor of a merge are indexed only where set (imported customers are mostly not
        # assigned yet). Migrations 0005 and 0006 and docs/adr/0005 give the cost of each.
        indexes = [
            models.Index(fields=["store", "mobile_last4"], name="customer_store_last4"),
            models.Index(
                fields=["store", "consultant", "-id"],
                condition=models.Q(consultant__isnull=False),
                name="customer_store_consultant_set",
            ),
            EqualityIndex(fields=["mobile_index"], name="customer_mobile_index"),
            EqualityIndex(fields=["id_number_index"], name="customer_id_number_index"),
            EqualityIndex(fields=["other_phone_index"], name="customer_other_phone_index"),
            EqualityIndex(fields=["address_key"], name="customer_address_key"),
            models.Index(
                fields=["consultant"], condition=models.Q(consultant__isnull=False), name="customer_consultant_set"
            ),
            models.Index(fields=["advisor"], condition=models.Q(advisor__isnull=False), name="customer_advisor_set"),
            models.Index(
                fields=["merged_into"], condition=models.Q(merged_into__isnull=False), name="customer_merged_into_set"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], condition=~models.Q(external_id=""), name="customer_external_id_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Household(TenantModel):
    """People seen together: a family, or a company with its drivers."""

    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")

    def __str__(self) -> str:
        return self.name


class HouseholdMember(TenantModel):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="household_links")
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        constraints = [
            models.UniqueConstraint(fields=["household", "customer"], name="household_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.customer}"


class Consent(TenantModel):
    """Consent of one customer for one purpose on one channel (PIPL): granted with a source
    and time, withdrawable. The newest row per (customer, purpose, channel) is in force."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=12, choices=ConsentPurpose.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"), default=True)
    source = models.CharField(_("source"), max_length=60, blank=True)
    at = models.DateTimeField(_("recorded at"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["customer", "purpose", "channel", "-at"], name="consent_lookup")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose}/{self.channel} {'✓' if self.granted else '✗'}"


class TimelineEvent(TenantModel):
    """One touch in a customer's history, written by every module through
    ``customers.services.timeline_record``; the 360 page reads it newest first.

    The busiest table to write (an import adds one row per customer), so it carries no database
    foreign keys: a deferred key check per row cost more than the row and its indexes together.
    The writers take the customer and store from rows they hold, and Django's ``on_delete``
    still removes a deleted customer's events."""

    store = models.ForeignKey(
        "tenancy.Store", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    # Indexed by ``timeline_customer_at``, which leads with the customer.
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="timeline", db_index=False, db_constraint=False
    )
    kind = models.CharField(_("kind"), max_length=40)
    at = models.DateTimeField(_("at"), default=timezone.now)
    summary = models.CharField(_("summary"), max_length=300)
    link = models.CharField(max_length=300, blank=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)

    scope_owner_field = "customer__consultant"
    audit_enabled = False  # the timeline is itself a record of what happened

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        indexes = [models.Index(fields=["customer", "-at", "-id"], name="timeline_customer_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.kind} {self.summary}"


class DuplicatePair(TenantModel):
    """Two customers of one store that may be the same person, found on entry or by the batch
    finder, with a score in [0, 1] and the reasons (same mobile, similar name + district…).
    ``customer_a`` has the lower id. Reviewed by merging or dismissing."""

    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    reviewed_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(customer_a__lt=models.F("customer_b")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["store", "status", "-score"], name="duplicate_queue")]

    def __str__(self) -> str:
        return f"{self.customer_a_id} ~ {self.customer_b_id} ({self.score:.2f})"


class CustomerMerge(TenantModel):
    """One merge of ``merged`` into ``survivor``: what moved and what changed, so it can be undone.

    ``survivor_before`` (the survivor's fields before the merge, as JSON) is encrypted because it
    holds personal data; ``moved`` maps ``app.model.field`` to the ids of the rows re-pointed."""

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    choices = models.JSONField(_("field choices"), default=dict)
    survivor_before = EncryptedTextField(mask="autocrm.core.masking.mask_generic")
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"{self.merged} → {self.survivor}"


class CustomerExternalId(TenantModel):
    """Another system's key (a DMS customer number) that also names ``customer``: the external
    ids of records merged into it, and of rows of one import file folded into it. An import
    resolves an external id through these, so re-importing the same export updates the survivor
    instead of creating the merged-away customer again. Unique in the store, like
    ``Customer.external_id``; a merge re-points them with the customer's other rows."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_aliases")
    external_id = models.CharField(_("external ID"), max_length=64)

    scope_owner_field = "customer__consultant"

    class Meta:
        verbose_name = _("external ID alias")
        verbose_name_plural = _("external ID aliases")
        constraints = [models.UniqueConstraint(fields=["store", "external_id"], name="customer_external_alias_unique")]

    def __str__(self) -> str:
        return self.external_id
