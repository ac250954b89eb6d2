"""Abstract base models. Core has no concrete models: apps build on these."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import permissions
from .fields import BlindIndexField, EncryptedTextField

if TYPE_CHECKING:
    from .actor import Actor

_M = TypeVar("_M", bound=models.Model, covariant=True)


class TrackedModel(models.Model):
    """Remembers the values it was loaded with, so the audit trail can record before/after
    without an extra query."""

    audit_exclude: tuple[str, ...] = ("created_at", "updated_at")
    # Rows that are themselves a log (timeline events) set this to False.
    audit_enabled: bool = True
    # The values the row was loaded (or last saved) with; absent on a row never loaded.
    _loaded: dict[str, Any]

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> Self:
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=False))
        return instance

    def audit_snapshot(self) -> dict[str, Any]:
        """Current values of audited fields, with sensitive ones reduced to a masked form."""
        out: dict[str, Any] = {}
        for field in self._meta.concrete_fields:
            if field.name in self.audit_exclude or isinstance(field, BlindIndexField):
                continue
            value = getattr(self, field.attname)
            out[field.attname] = audit_value(field, value)
        return out

    def audit_before(self) -> dict[str, Any] | None:
        loaded = getattr(self, "_loaded", None)
        if loaded is None:
            return None
        out: dict[str, Any] = {}
        for field in self._meta.concrete_fields:
            if field.attname not in loaded or field.name in self.audit_exclude or isinstance(field, BlindIndexField):
                continue
            raw = loaded[field.attname]
            if isinstance(field, EncryptedTextField):
                raw = field.from_db_value(raw, None, None)
            else:
                raw = field.to_python(raw) if raw is not None else None
            out[field.attname] = audit_value(field, raw)
        return out


def audit_value(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, EncryptedTextField):
        mask = field.mask
        return (mask(value) if mask else "***") if value else ""
    if isinstance(value, (int, float, bool, str)):
        return value
    return str(value)


def model_field(model: type[models.Model] | models.Model, name: str) -> models.Field[Any, Any]:
    """``model._meta.get_field(name)`` for a field declared on the model, typed as a Field:
    ``get_field`` also answers reverse relations, which have no column (``attname``)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is a reverse relation, not a field")
    return field


class StoreScopedQuerySet(models.QuerySet[_M]):
    def for_actor(self, actor: Actor, action: str = "view") -> Self:
        """The rows ``actor`` may ``action``: always the store rule, then the role's scope."""
        return permissions.restrict(self, actor, action)


StoreScopedManager = models.Manager.from_queryset(StoreScopedQuerySet)


class TenantModel(TrackedModel):
    """A row owned by one store. ``store`` is never taken from the client; reads go through
    ``objects.for_actor(actor, action)``. Subclasses set ``scope_owner_field`` (e.g.
    ``"assigned_to"``) when the own/own-or-unassigned scopes apply to them."""

    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    scope_owner_field: str | None = None

    objects = StoreScopedManager()

    class Meta:
        abstract = True


class StoredUpload(TenantModel):
    """A row that keeps one file stored by ``core.uploads`` (checked by content, encrypted): where
    it lies under the uploads root (never shown or served directly), its sniffed type, size and
    SHA-256, the cleaned name the client gave, who uploaded it. A concrete attachment (a deal's
    document, a job's or an inspection item's photo, a loaner's damage photo) adds the record it
    belongs to; it is created with ``uploads.record`` and served by its app's view after the
    record's permission check (docs/conventions.md, "Uploaded files")."""

    path = models.CharField(max_length=200, editable=False)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    name = models.CharField(_("file name"), max_length=120)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name
