"""Leads (线索): a person who may buy a car, from any channel, until a deal or a lost request
closes them. Further tables (activities, assignment rules, lost requests, …) live beside it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.fields import BlindIndexField, EncryptedTextField, EqualityIndex
from autocrm.core.models import TenantModel

from .choices import (
    DEFAULT_LOST_REASONS,
    ActivityKind,
    ActivityOutcome,
    DutyStatus,
    Grade,
    LeadStatus,
    LostRequestStatus,
    MobileFlag,
    PageKind,
    RecordKind,
    lost_reason_label,
)


class Lead(TenantModel):
    """One enquiry of one person in one store. ``mobile`` is encrypted with a blind index (the
    de-duplication on arrival looks up open leads and customers by it); ``customer`` is set when
    the lead is an existing customer or becomes one at delivery."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    mobile = EncryptedTextField(_("mobile"), mask="autocrm.core.masking.mask_mobile")
    mobile_index = BlindIndexField(source="mobile", normalizer="autocrm.core.normalize.normalize_mobile")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_channel = models.CharField(_("source channel"), max_length=20, blank=True)
    campaign = models.CharField(_("campaign"), max_length=100, blank=True)
    # A member's referral code (转介绍码) the friend came with; loyalty rewards both sides (ADR 0034).
    referral_code = models.CharField(_("referral code"), max_length=12, blank=True)
    external_id = models.CharField(_("external ID"), max_length=64, blank=True)
    model_interest = models.CharField(_("model of interest"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    grade = models.CharField(_("intent grade"), max_length=1, choices=Grade.choices, blank=True, default="")
    score = models.PositiveSmallIntegerField(_("score"), default=0)
    # The score's reasons ({"code", "points", "args"}: leads.scoring.reason_text renders them) and
    # the counters it is computed from (visits, test drives, views, text signals), kept on the lead
    # so that rescoring reads nothing else (docs/adr/0015).
    score_reasons = models.JSONField(_("score reasons"), default=list, blank=True)
    score_signals = models.JSONField(default=dict, blank=True, editable=False)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)
    # The website's or mini-program's visitor ID, linking browsing events before a mobile is known.
    visitor_id = models.CharField(_("visitor ID"), max_length=64, blank=True)
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("sales consultant"),
    )  # fmt: skip
    arrived_at = models.DateTimeField(_("arrived at"), default=timezone.now)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    first_contact_due = models.DateTimeField(_("first contact due"), null=True, blank=True)
    first_contact_at = models.DateTimeField(_("first contacted at"), null=True, blank=True)
    last_touch_at = models.DateTimeField(_("last touch"), null=True, blank=True)
    next_action_at = models.DateTimeField(_("next action"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    brand_interest = models.CharField(_("brand of interest"), max_length=60, blank=True)
    message = models.TextField(_("customer's message"), blank=True)
    mobile_flag = models.CharField(_("mobile check"), max_length=8, choices=MobileFlag.choices, blank=True, default="")
    # Bumped by every assignment: a reassignment names the version it saw, so of two managers
    # moving one lead at once one wins and the other gets a 409.
    version = models.PositiveIntegerField(_("version"), default=0)
    enquiries = models.PositiveSmallIntegerField(_("enquiries"), default=1)
    # The sweep's marks, so a reminder or an escalation is sent once per deadline.
    first_contact_reminded_at = models.DateTimeField(null=True, blank=True)
    first_contact_escalated_at = models.DateTimeField(null=True, blank=True)
    follow_up_reminded_at = models.DateTimeField(null=True, blank=True)
    follow_up_escalated_at = models.DateTimeField(null=True, blank=True)
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)

    scope_owner_field = "consultant"

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], condition=~models.Q(external_id=""), name="lead_external_id_unique"
            )
        ]
        indexes = [
            EqualityIndex(fields=["mobile_index"], name="lead_mobile_index"),
            models.Index(fields=["store", "consultant", "status", "-arrived_at"], name="lead_consultant_list"),
            # A consultant's list unfiltered, newest first (keyset on arrived_at, id): read in order,
            # 51 rows, however many closed leads the consultant has.
            models.Index(fields=["store", "consultant", "-arrived_at", "-id"], name="lead_consultant_recent"),
            models.Index(fields=["store", "status", "first_contact_due"], name="lead_sla_due"),
            models.Index(fields=["store", "-arrived_at", "-id"], name="lead_store_recent"),
            models.Index(fields=["status", "first_contact_due"], name="lead_sweep_first"),
            models.Index(fields=["status", "next_action_at"], name="lead_sweep_follow"),
            models.Index(fields=["store", "status", "last_touch_at"], name="lead_sleeping"),
            models.Index(fields=["store", "consultant", "-score", "-id"], name="lead_consultant_score"),
            models.Index(fields=["store", "visitor_id"], condition=~models.Q(visitor_id=""), name="lead_visitor_id"),
            # The consultant's follow-ups (to-do: due today, overdue), read in next-action order: a few
            # index entries however many closed leads the consultant has (selectors.lead_todo).
            models.Index(
                fields=["store", "consultant", "next_action_at"],
                condition=models.Q(status__in=["contacted", "visited", "negotiating"]),
                name="lead_todo_follow",
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.pk)


class LeadSettings(TenantModel):
    """A store's lead rules: the first-contact target (minutes of opening hours), the follow-up
    window of each grade (days), when a lead counts as sleeping, how long before a deadline the
    consultant is reminded, and the reasons a lost request may give. One row per store, created
    with the defaults on first use (``leads.selectors.lead_settings``)."""

    first_contact_minutes = models.PositiveIntegerField(_("first contact within (business minutes)"), default=30)
    follow_up_days_h = models.PositiveSmallIntegerField(_("follow-up every (days), grade H"), default=1)
    follow_up_days_a = models.PositiveSmallIntegerField(_("follow-up every (days), grade A"), default=3)
    follow_up_days_b = models.PositiveSmallIntegerField(_("follow-up every (days), grade B"), default=7)
    follow_up_days_c = models.PositiveSmallIntegerField(_("follow-up every (days), grade C"), default=15)
    sleeping_days = models.PositiveSmallIntegerField(_("sleeping after (days without a touch)"), default=14)
    remind_minutes_before = models.PositiveSmallIntegerField(_("remind before a deadline (minutes)"), default=10)
    lost_reasons = models.JSONField(_("lost reasons"), default=list, blank=True)
    hot_score_threshold = models.PositiveSmallIntegerField(
        _("hot lead above score (to the best converters)"), default=80
    )
    # Given to a consultant's duty row when it is first created (``services.duty_set``).
    daily_capacity_default = models.PositiveSmallIntegerField(_("daily capacity of a new consultant"), default=30)

    class Meta:
        verbose_name = _("lead settings")
        verbose_name_plural = _("lead settings")
        constraints = [models.UniqueConstraint(fields=["store"], name="lead_settings_one_per_store")]

    def __str__(self) -> str:
        return str(_("Lead rules"))

    def follow_up_days(self, grade: str) -> int:
        return int(getattr(self, f"follow_up_days_{(grade or 'c').lower()}", self.follow_up_days_c))

    def reasons(self) -> list[str]:
        return [str(r) for r in (self.lost_reasons or DEFAULT_LOST_REASONS)]


class ConsultantDuty(TenantModel):
    """A consultant's availability for automatic assignment in one store: on duty, busy or off,
    a daily capacity, and optional brand/model specialities (comma-separated). Round robin goes
    by ``last_assigned_at``; ``assigned_today`` counts against the capacity on ``assigned_on``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=DutyStatus.choices, default=DutyStatus.ON_DUTY)
    daily_capacity = models.PositiveSmallIntegerField(_("daily capacity"), default=30)
    specialities = models.CharField(_("brands and models handled"), max_length=200, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    turn = models.PositiveBigIntegerField(default=0)  # round robin: the lowest turn is next
    assigned_on = models.DateField(null=True, blank=True)
    assigned_today = models.PositiveIntegerField(default=0)

    scope_owner_field = "user"

    class Meta:
        verbose_name = _("consultant duty")
        verbose_name_plural = _("consultant duties")
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="consultant_duty_one_per_store")]

    def speciality_list(self) -> list[str]:
        return [s.strip().lower() for s in self.specialities.replace("，", ",").split(",") if s.strip()]


class LeadActivity(TenantModel):
    """One touch of a lead (call, WeChat, SMS, visit, note) with its outcome and the next action,
    or a system entry (enquired again, assigned). Follows its lead's rules."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ActivityOutcome.choices, blank=True, default="")
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    next_action_at = models.DateTimeField(_("next action"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, blank=True)  # of a repeated enquiry
    ref = models.CharField(max_length=64, blank=True)  # the repeated enquiry's external ID (idempotency)

    scope_owner_field = "lead__consultant"

    class Meta:
        verbose_name = _("lead activity")
        verbose_name_plural = _("lead activities")
        indexes = [
            models.Index(fields=["lead", "-at", "-id"], name="lead_activity_recent"),
            models.Index(fields=["store", "ref"], condition=~models.Q(ref=""), name="lead_activity_ref"),
        ]


class LostRequest(TenantModel):
    """A consultant's request to close a lead as lost (战败申请), with a reason from the store's
    list; the sales manager approves (the lead is lost) or returns it with a note (the lead is
    open again)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="lost_requests")
    reason = models.CharField(_("reason"), max_length=60)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=LostRequestStatus.choices, default=LostRequestStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    prior_status = models.CharField(max_length=16, blank=True)  # the lead's status to go back to when returned

    scope_owner_field = "lead__consultant"

    @property
    def reason_label(self) -> str:
        """The reason as the manager reads it: a built-in code by its Chinese label, a store's own words as written."""
        return lost_reason_label(self.reason)

    class Meta:
        verbose_name = _("lost request")
        verbose_name_plural = _("lost requests")
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=models.Q(status="pending"), name="lost_request_one_pending"
            )
        ]
        indexes = [models.Index(fields=["store", "status", "-created_at"], name="lost_request_queue")]


class LeadEvent(TenantModel):
    """One browsing event from the website or the mini-program (a configuration, price or gallery
    page of a model), linked to the open lead with the same mobile (blind index) or visitor ID;
    kept unlinked until such a lead arrives. The mobile itself is not stored, only its blind
    index. ``event_id`` (the sender's) makes a retried post harmless."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    mobile_index = models.CharField(max_length=64, blank=True, editable=False)
    visitor_id = models.CharField(_("visitor ID"), max_length=64, blank=True)
    series = models.ForeignKey(
        "vehicles.Series", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    model = models.CharField(_("model"), max_length=100)
    page = models.CharField(_("page"), max_length=12, choices=PageKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    event_id = models.CharField(_("event ID"), max_length=64, blank=True)

    scope_owner_field = "lead__consultant"

    class Meta:
        verbose_name = _("browsing event")
        verbose_name_plural = _("browsing events")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "event_id"], condition=~models.Q(event_id=""), name="lead_event_id_unique"
            )
        ]
        indexes = [
            # the three-days-in-a-row check: one lead's views of one model's pages by time
            models.Index(fields=["lead", "model", "page", "occurred_at"], name="lead_event_streak"),
            # waiting for their lead: by mobile or visitor, unlinked only
            models.Index(
                fields=["store", "mobile_index"],
                condition=models.Q(lead__isnull=True) & ~models.Q(mobile_index=""),
                name="lead_event_pending_mobile",
            ),
            models.Index(
                fields=["store", "visitor_id"],
                condition=models.Q(lead__isnull=True) & ~models.Q(visitor_id=""),
                name="lead_event_pending_visitor",
            ),
        ]


class ConversationRecord(TenantModel):
    """A call recording or a chat excerpt attached to one activity of a lead (通话录音、聊天记录):
    uploaded on the lead page or posted by the call-centre system with the lead's mobile. A
    recording's bytes are stored by ``core.uploads`` (checked by content, encrypted) and served
    only through the lead's page after its permission check; a chat excerpt is text. Follows its
    lead's rules; ``external_id`` (the call centre's call id) makes a repeated post one record."""

    activity = models.ForeignKey(LeadActivity, on_delete=models.CASCADE, related_name="records")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=RecordKind.choices)
    path = models.CharField(max_length=200, blank=True, editable=False)
    content_type = models.CharField(_("type"), max_length=40, blank=True)
    size = models.PositiveIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    name = models.CharField(_("file name"), max_length=120, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    text = models.TextField(_("chat excerpt"), blank=True)
    external_id = models.CharField(_("external ID"), max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    scope_owner_field = "lead__consultant"

    class Meta:
        verbose_name = _("conversation record")
        verbose_name_plural = _("conversation records")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "external_id"], condition=~models.Q(external_id=""), name="conversation_external_id"
            )
        ]
        indexes = [models.Index(fields=["lead", "-created_at"], name="conversation_lead_recent")]

    def __str__(self) -> str:
        return self.name or self.kind


class RescoreStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    SUPERSEDED = "superseded", _("Replaced by a later run")


class LeadRescore(TenantModel):
    """One batch rescoring of a store's open leads (after the hot-lead threshold or the weights
    changed; ``leads.rules``). The worker walks the open leads by id in chunks (``cursor``: the
    last id done), each chunk one transaction with the run's counters, so a retried or restarted
    task resumes where it stopped and rescores nothing twice. ``previous_threshold`` is the
    threshold before the change: a lead above the new one that was not above the old one is newly
    hot and routed (once: the lead's ``score_signals["hot_routed"]`` marks it)."""

    status = models.CharField(_("status"), max_length=10, choices=RescoreStatus.choices, default=RescoreStatus.QUEUED)
    threshold = models.PositiveSmallIntegerField(_("hot lead above score"))
    previous_threshold = models.PositiveSmallIntegerField(_("previous threshold"))
    cursor = models.BigIntegerField(default=0)
    scanned = models.PositiveIntegerField(_("leads read"), default=0)
    changed = models.PositiveIntegerField(_("scores changed"), default=0)
    newly_hot = models.PositiveIntegerField(_("newly hot"), default=0)
    routed = models.PositiveIntegerField(_("hot leads routed"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead rescoring")
        verbose_name_plural = _("lead rescorings")
        indexes = [models.Index(fields=["store", "-created_at"], name="lead_rescore_recent")]
