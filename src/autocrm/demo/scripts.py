"""Demo sales scripts (话术库): about twenty realistic objections and answers per store, from
``demo.data.sales_scripts``. ``load_scripts(store)`` is the one call the demo needs (idempotent:
a store that has scripts gets none); ``demo_scripts_hook`` runs it for every demo store."""

from __future__ import annotations

from typing import Any

from autocrm.sales.models import SalesScript
from autocrm.tenancy.models import Organization, Store

from .data.sales_scripts import SCRIPTS


def load_scripts(store: Store) -> int:
    """The demo library in ``store``; returns how many scripts were created (0 when it has some)."""
    if SalesScript.objects.filter(store=store).exists():  # scoped: the demo store being filled
        return 0
    rows = [
        SalesScript(
            store=store,
            objection=objection,
            answer=answer,
            model_name=model,
            competitor=competitor,
            tags=list(tags),
            tag_text=" ".join(tags),
        )
        for objection, answer, model, competitor, tags in SCRIPTS
    ]
    SalesScript.objects.bulk_create(rows)
    return len(rows)


def demo_scripts_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: the sales-script library in every demo store."""
    for store in stores.values():
        load_scripts(store)
