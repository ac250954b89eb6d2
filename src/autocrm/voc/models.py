"""What customers said (ADR 0035): one row per text (a survey comment, a complaint, a call note),
with its sentiment and score, and one :class:`VocPhrase` per aspect phrase it carries — the
rows the charts group by (store, staff, week, phrase) without reading JSON."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import TenantModel

from .choices import SENTIMENT_HELP, Sentiment, Source


class VocText(TenantModel):
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    source_id = models.CharField(_("source record"), max_length=64)
    customer = models.ForeignKey("customers.Customer", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("customer"))  # fmt: skip
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name=_("staff member"))  # fmt: skip
    text = models.TextField(_("text"))
    sentiment = models.CharField(_("sentiment"), max_length=10, choices=Sentiment.choices, help_text=SENTIMENT_HELP)
    score = models.FloatField(_("score"), default=0.0)
    phrases = models.JSONField(_("phrases"), default=list, blank=True)
    at = models.DateTimeField(_("written at"))

    scope_owner_field = "staff"

    class Meta:
        verbose_name = _("customer text")
        verbose_name_plural = _("customer texts")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="voctext_source_unique")]
        indexes = [
            models.Index(fields=["store", "at"], name="voctext_store_at"),
            models.Index(fields=["store", "staff", "at"], name="voctext_store_staff_at"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_id}"


class VocPhrase(models.Model):
    """One aspect phrase of a text (``wait-`` 等待时间长), with the text's store, staff and time
    copied so the aggregations read this table alone."""

    text = models.ForeignKey(VocText, on_delete=models.CASCADE, related_name="phrase_rows")
    store = models.ForeignKey("tenancy.Store", on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                              blank=True, related_name="+")  # fmt: skip
    code = models.CharField(max_length=24)
    positive = models.BooleanField()
    at = models.DateTimeField()

    scope_owner_field = "staff"

    class Meta:
        verbose_name = _("customer text phrase")
        verbose_name_plural = _("customer text phrases")
        indexes = [
            models.Index(fields=["store", "at"], name="vocphrase_store_at"),
            models.Index(fields=["store", "staff", "at"], name="vocphrase_store_staff_at"),
        ]

    def __str__(self) -> str:
        return self.code
