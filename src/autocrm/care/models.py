"""Customer care (客户关怀): follow-up calls (回访) after a delivery or a service, complaints (投诉)
with their deadlines and escalation, and the store's care settings. Reads customers, vehicles
and users; writes only these tables. Moments that start them arrive as ``core.events``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import (
    Category,
    Channel,
    ComplaintStatus,
    Department,
    FollowUpKind,
    FollowUpStatus,
    Outcome,
    ResponseStatus,
    RootCause,
    Severity,
    SurveyKind,
    SurveyMoment,
    WinBackReason,
)


def _empty() -> dict[str, object]:
    return {}


class CareSettings(TenantModel):
    """The store's care rules: days to make a follow-up call, hours between attempts on an
    unreachable customer and how many attempts, the script per kind (empty: the shipped one)
    and the complaint step deadlines by severity (empty: the defaults). One row per store, the
    defaults until saved (``selectors.settings_for``). ``last_agent`` is the round-robin's place."""

    follow_up_days = models.PositiveSmallIntegerField(_("follow-up call within (days)"), default=3)
    retry_hours = models.PositiveSmallIntegerField(_("call again after (hours)"), default=4)
    max_attempts = models.PositiveSmallIntegerField(_("attempts before giving up"), default=3)
    scripts = models.JSONField(_("call scripts"), default=_empty, blank=True)
    deadlines = models.JSONField(_("complaint deadlines (hours)"), default=_empty, blank=True)
    survey_link_days = models.PositiveSmallIntegerField(_("survey link valid for (days)"), default=14)
    low_csi = models.PositiveSmallIntegerField(_("a CSI below this opens a care call"), default=70)
    low_nps = models.PositiveSmallIntegerField(_("an NPS answer at or below this opens a care call"), default=6)
    min_answer_seconds = models.PositiveSmallIntegerField(
        _("answers faster than this are flagged (seconds)"), default=15
    )
    store_networks = models.CharField(
        _("store network addresses"), max_length=300, blank=True,
        help_text=_("Comma-separated addresses or networks (CIDR) of the store: answers from them are flagged."),
    )  # fmt: skip
    winback_months = models.PositiveSmallIntegerField(
        _("a customer without a visit for this many months is lapsed (0: no win-back)"), default=3
    )
    winback_gifts = models.JSONField(_("win-back offer by reason"), default=_empty, blank=True)
    watch_visits = models.PositiveSmallIntegerField(_("won-back customers: visits followed by a call"), default=2)
    last_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = _("care settings")
        verbose_name_plural = _("care settings")
        constraints = [models.UniqueConstraint(fields=["store"], name="care_settings_one_per_store")]

    def __str__(self) -> str:
        return f"care settings {self.store_id}"


class FollowUp(TenantModel):
    """One follow-up call (回访) to make: after a delivery, a closed repair order or a low survey
    score; one per source record and kind. ``staff`` is whom the call is about (the consultant or
    the advisor), ``agent`` who calls. An unreachable customer is called again after the store's
    retry hours until the attempts run out. Overdue calls are escalated once (``escalated_at``)."""

    kind = models.CharField(_("kind"), max_length=12, choices=FollowUpKind.choices)
    source_id = models.PositiveBigIntegerField(_("source record"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("agent"), db_index=False,
    )  # fmt: skip
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("served by"), db_index=False,
    )  # fmt: skip
    status = models.CharField(_("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    due_at = models.DateTimeField(_("call by"))
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    note = models.TextField(_("call note"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    complaint = models.ForeignKey(
        "care.Complaint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("complaint"),
    )

    scope_owner_field = "agent"

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        constraints = [models.UniqueConstraint(fields=["store", "kind", "source_id"], name="care_followup_once")]
        indexes = [
            models.Index(fields=["store", "status", "due_at"], name="care_followup_due"),
            models.Index(fields=["store", "agent", "status", "due_at"], name="care_followup_agent"),
            models.Index(fields=["store", "customer", "due_at"], name="care_followup_customer"),  # the 360 part
        ]

    def __str__(self) -> str:
        return f"FU-{self.pk}"


class Complaint(TenantModel):
    """A customer's complaint (投诉) and its closed loop: received → assigned → handling →
    customer confirms → closed, each step due by the store's hours for its severity
    (``step_due_at``). ``level`` is how far up it has been escalated (1: the owning department's
    manager, 2: the general manager, 总经理督办). A root cause and the customer's confirmation are
    needed to close; a customer who does not confirm reopens it (``reopened``)."""

    number = models.CharField(_("number"), max_length=20, editable=False)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("customer")
    )
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        verbose_name=_("vehicle"),
    )  # fmt: skip
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    category = models.CharField(_("category"), max_length=10, choices=Category.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    department = models.CharField(_("department"), max_length=12, choices=Department.choices)
    description = models.TextField(_("what the customer says"))
    status = models.CharField(
        _("status"), max_length=10, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("handled by"), db_index=False,
    )  # fmt: skip
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("staff concerned"), db_index=False,
    )  # fmt: skip
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    received_at = models.DateTimeField(_("received at"))
    step_due_at = models.DateTimeField(_("step due by"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    root_cause = models.CharField(_("root cause"), max_length=14, choices=RootCause.choices, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    confirmed_at = models.DateTimeField(_("customer confirmed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    scope_owner_field = "assignee"

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        indexes = [
            models.Index(fields=["store", "status", "step_due_at"], name="care_complaint_due"),
            models.Index(fields=["store", "level", "status"], name="care_complaint_level"),
            models.Index(fields=["store", "customer", "step_due_at"], name="care_complaint_customer"),  # the 360 part
        ]

    def __str__(self) -> str:
        return self.number or f"C-{self.pk}"


class SurveyTemplate(TenantModel):
    """A survey of the store for one moment: CSI (items scored 1–``scale``) or NPS (0–10 and why).
    The store's active template per moment and kind is sent; shipped ones are made on first use."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=4, choices=SurveyKind.choices)
    moment = models.CharField(_("sent after"), max_length=10, choices=SurveyMoment.choices)
    items = models.JSONField(_("items"), default=list, blank=True)
    scale = models.PositiveSmallIntegerField(_("scale"), default=5)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        constraints = [
            models.CheckConstraint(condition=models.Q(scale__in=[5, 10]), name="care_survey_scale_5_or_10"),
        ]

    def __str__(self) -> str:
        return self.name


class SurveyInvitation(TenantModel):
    """One survey sent to one customer after one visit or delivery: a signed one-time link
    (``nonce``), answered once (``responded_at``). ``staff`` is the advisor or consultant it scores."""

    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="+")
    moment = models.CharField(_("sent after"), max_length=10, choices=SurveyMoment.choices)
    source_id = models.PositiveBigIntegerField(_("source record"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)
    vehicle = models.ForeignKey(
        "vehicles.Vehicle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    nonce = models.CharField(max_length=32, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("valid until"))

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(fields=["store", "template", "source_id"], name="care_invitation_once"),
        ]

    def __str__(self) -> str:
        return f"SV-{self.pk}"


class SurveyResponse(TenantModel):
    """The answer to one invitation (one at most: the unique invitation). ``csi`` is the items'
    mean on a 0–100 scale, ``nps`` the 0–10 answer. ``flags`` name the honesty checks it failed
    (``choices.Flag``): a flagged answer is left out of every score until a manager reviews it."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    kind = models.CharField(_("kind"), max_length=4, choices=SurveyKind.choices)
    moment = models.CharField(_("sent after"), max_length=10, choices=SurveyMoment.choices)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False,
        verbose_name=_("served by"),
    )  # fmt: skip
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    csi = models.DecimalField(_("CSI"), max_digits=5, decimal_places=1, null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("NPS answer"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"))
    seconds = models.PositiveIntegerField(_("seconds taken"), null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    device = models.CharField(max_length=64, blank=True, editable=False)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.COUNTED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    scope_owner_field = "staff"

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        indexes = [
            models.Index(fields=["store", "answered_at"], name="care_response_store_at"),
            models.Index(fields=["store", "device", "answered_at"], name="care_response_device"),
            models.Index(fields=["store", "status"], name="care_response_status"),
            models.Index(fields=["store", "customer", "answered_at"], name="care_response_customer"),  # the 360 part
        ]

    def __str__(self) -> str:
        return f"SR-{self.pk}"


class CareCustomer(TenantModel):
    """What care keeps of a customer: the last visit it heard of (a closed repair order or a
    delivery, from the events it receives) — the churn rule reads it — and ``no_contact`` for a
    customer care must not approach again (deceased, asked to be left alone)."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="+")
    last_visit_at = models.DateTimeField(_("last visit"))
    no_contact = models.BooleanField(_("do not contact (deceased, asked not to)"), default=False)

    class Meta:
        verbose_name = _("care customer")
        verbose_name_plural = _("care customers")
        indexes = [models.Index(fields=["store", "last_visit_at"], name="care_customer_lapse")]

    def __str__(self) -> str:
        return f"care customer {self.customer_id}"


class WinBack(TenantModel):
    """One lapse of one customer flagged by the churn rule (no visit for the store's months):
    once per lapse (the last visit before it is part of the key). It carries the "why did you
    stop coming" survey (a signed one-time link, ``nonce``), the answer with its honesty flags,
    the offer given for the reason, the call task, and the return (``returned_at``: won back)
    after which ``watch_left`` more visits are followed by a call."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+", db_index=False)
    last_visit_at = models.DateTimeField(_("last visit before the lapse"))
    flagged_at = models.DateTimeField(_("flagged at"))
    nonce = models.CharField(max_length=32, editable=False)
    expires_at = models.DateTimeField(_("survey valid until"))
    sent_at = models.DateTimeField(_("survey sent at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=10, choices=WinBackReason.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    seconds = models.PositiveIntegerField(_("seconds taken"), null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    device = models.CharField(max_length=64, blank=True, editable=False)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    status = models.CharField(_("answer status"), max_length=10, choices=ResponseStatus.choices, blank=True)
    offer = models.CharField(_("offer"), max_length=60, blank=True)
    offer_given = models.CharField(_("offer given"), max_length=200, blank=True)
    offer_at = models.DateTimeField(_("offer given at"), null=True, blank=True)
    follow_up = models.ForeignKey(
        FollowUp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("call")
    )
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("came back at"), null=True, blank=True)
    watch_left = models.PositiveSmallIntegerField(_("visits still followed by a call"), default=0)

    class Meta:
        verbose_name = _("win-back")
        verbose_name_plural = _("win-backs")
        constraints = [
            models.UniqueConstraint(fields=["store", "customer", "last_visit_at"], name="care_winback_once_per_lapse"),
        ]
        indexes = [
            models.Index(fields=["store", "flagged_at"], name="care_winback_store_at"),
            models.Index(fields=["store", "customer", "returned_at"], name="care_winback_customer"),
        ]

    def __str__(self) -> str:
        return f"WB-{self.pk}"
