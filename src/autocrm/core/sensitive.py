"""Access to protected personal data: revealing one full value, and logging exports.

Every full view of a sensitive value and every export leaves an audit entry (PIPL: "every
view of full sensitive data and every export is logged"). The checks run before anything is
written, so a refused reveal leaves only its ``authz.denied`` event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from . import audit, permissions
from .actor import Actor
from .errors import PermissionDenied, ValidationError
from .fields import EncryptedTextField


def _sensitive_field(model: type[models.Model] | models.Model, field: str) -> EncryptedTextField:
    try:
        model_field = model._meta.get_field(field)
    except (FieldDoesNotExist, TypeError):
        model_field = None
    if not isinstance(model_field, EncryptedTextField) or not getattr(model_field, "sensitive", False):
        raise ValidationError(
            _("This field cannot be revealed."), fields={"field": [_("Choose a protected personal data field.")]}
        )
    return model_field


def field_reveal(*, actor: Actor, obj: models.Model, field: str) -> str:
    """The full value of one protected field of ``obj``, logged as ``pii.reveal``.

    ``obj`` must already be visible to the actor (the caller fetched it with
    ``permissions.get_in_scope``). The role needs the ``reveal`` action in scope (else 403 and an
    ``authz.denied`` event) and must not have the field hidden; an unknown or unprotected field
    is a 400 naming ``field``."""
    _sensitive_field(obj, field)
    permissions.require(actor, "reveal", obj)
    if permissions.field_access(actor, obj, field) is permissions.Access.HIDDEN:
        audit.record_durable("authz.denied", obj=obj, actor=actor, extra={"attempted": "reveal", "field": field})
        raise PermissionDenied()
    with transaction.atomic():
        audit.record("pii.reveal", obj=obj, actor=actor, extra={"field": field})
    return getattr(obj, field) or ""


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


def export_logged(
    *, actor: Actor, model: type[models.Model], count: int, filters: Mapping[str, Any] | None = None
) -> Any:
    """Record the access-log entry of an export of ``count`` rows of ``model`` (``export``).

    The role needs the ``export`` action on the model (else 403 and an ``authz.denied`` event);
    call it before the file is handed out. Returns the audit event."""
    if not permissions.can(actor, "export", model):
        audit.record_durable(
            "authz.denied",
            actor=actor,
            store_id=actor.store_id,
            object_type=permissions.model_key(model),
            extra={"attempted": "export", "role": actor.role},
        )
        raise PermissionDenied()
    with transaction.atomic():
        return audit.record(
            "export",
            actor=actor,
            store_id=actor.store_id,
            object_type=permissions.model_key(model),
            object_repr=str(model._meta.verbose_name_plural),
            extra={"count": int(count), "filters": _jsonable(dict(filters or {})), "role": actor.role},
        )
