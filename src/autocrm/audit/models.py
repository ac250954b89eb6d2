from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import StoreScopedManager


class AuditEvent(models.Model):
    """One append-only line of the audit trail: a create, update or delete of tenant data
    (with before/after), a denied action, a reveal of personal data, an export, a sign-in.

    Database triggers (see the migration) refuse UPDATE and DELETE on this table, on SQLite and
    PostgreSQL alike. ``store`` is empty for organization-level events (users, stores)."""

    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(_("action"), max_length=40)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True)
    store = models.ForeignKey(
        "tenancy.Store", on_delete=models.DO_NOTHING, null=True, db_constraint=False, related_name="+"
    )
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = StoreScopedManager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["store", "-id"], name="audit_store_id"),
            models.Index(fields=["organization_id", "-id"], name="audit_org_id"),
            models.Index(fields=["object_type", "object_id", "-id"], name="audit_object"),
            models.Index(fields=["actor", "-id"], name="audit_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("Audit events are append-only")
