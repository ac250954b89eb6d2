"""Automatic before/after capture for every saved or deleted tracked model.

Every model built on ``core.models.TrackedModel`` (tenant data, users, stores, memberships)
is covered without each service remembering to do it; services add domain events
(``authz.denied``, ``pii.reveal``, ``export``) explicitly."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from autocrm.core import audit
from autocrm.core.models import TrackedModel

from .models import AuditEvent


def _tracked(sender: Any) -> bool:
    return (
        isinstance(sender, type)
        and issubclass(sender, TrackedModel)
        and sender is not AuditEvent
        and sender.audit_enabled
    )


@receiver(post_save, dispatch_uid="autocrm_audit_save")
def on_save(sender: Any, instance: TrackedModel, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw or not _tracked(sender):
        return
    after = instance.audit_snapshot()
    update_fields = kwargs.get("update_fields")
    if created:
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "")}
        audit.record("create", obj=instance, changes=changes)
    else:
        before = instance.audit_before() or {}
        changes = {
            k: [before.get(k), v]
            for k, v in after.items()
            if (update_fields is None or k in update_fields or k.removesuffix("_id") in update_fields)
            and before.get(k) != v
            and (k in before or before == {})
        }
        if changes:
            audit.record("update", obj=instance, changes=changes)
    # Later saves of this same instance diff against what is now stored (plaintext passes
    # through the encrypted field's decrypt unchanged).
    instance._loaded = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@receiver(post_delete, dispatch_uid="autocrm_audit_delete")
def on_delete(sender: Any, instance: TrackedModel, **kwargs: Any) -> None:
    if not _tracked(sender):
        return
    before = instance.audit_snapshot()
    audit.record("delete", obj=instance, changes={k: [v, None] for k, v in before.items() if v not in (None, "")})
