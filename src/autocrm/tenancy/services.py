"""Writes for tenancy: the modules switched on in a store."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from autocrm.core import audit, modules
from autocrm.core.actor import Actor
from autocrm.core.errors import ValidationError
from autocrm.core.permissions import get_in_scope

from .models import Store


@transaction.atomic
def store_modules_set(*, actor: Actor, store_id: int, enabled: Iterable[str]) -> Store:
    """Switch on exactly the modules in ``enabled`` in one store and switch off the others
    (administrators; a store of another organization is 404, anyone else 403 and audited).

    Every registered module is written out, so the store keeps its choice when a module's
    default changes. An unknown key is a 400 naming the field and changes nothing. Audited as
    ``store.modules`` with the keys switched on and off."""
    store = get_in_scope(Store.objects.select_for_update(), actor, store_id, "modules")
    wanted = set(enabled)
    unknown = sorted(wanted - set(modules.module_keys()))
    if unknown:
        raise ValidationError(
            _("The modules were not changed."),
            fields={"modules": [_("Unknown module: %(keys)s") % {"keys": ", ".join(unknown)}]},
        )
    before = store.modules_on
    store.modules = {key: key in wanted for key in modules.module_keys()}
    after = store.modules_on
    with audit.acting_as(actor):
        store.save(update_fields=["modules"])  # the automatic before/after when anything changed
    if before != after:
        audit.record(
            "store.modules",
            obj=store,
            actor=actor,
            extra={"switched_on": sorted(after - before), "switched_off": sorted(before - after)},
        )
    return store
