"""Leads (线索): a person who may buy a car, from any channel, until a deal or a lost request
closes them. Further tables (activities, assignment rules, lost requests, …) live beside it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.fields import BlindIndexField, EncryptedTextField, EqualityIndex
from autocrm.core.models import TenantModel

from .choices import Grade, LeadStatus


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
    external_id = models.CharField(_("external ID"), max_length=64, blank=True)
    model_interest = models.CharField(_("model of interest"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    grade = models.CharField(_("intent grade"), max_length=1, choices=Grade.choices, blank=True, default="")
    score = models.PositiveSmallIntegerField(_("score"), default=0)
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
            models.Index(fields=["store", "status", "first_contact_due"], name="lead_sla_due"),
            models.Index(fields=["store", "-arrived_at", "-id"], name="lead_store_recent"),
        ]

    def __str__(self) -> str:
        return self.name or str(self.pk)
