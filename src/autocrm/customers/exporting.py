"""The customer export (``autocrm.imports.exporting`` writes it): the customer list's selector
and filters, its columns, personal data masked as on screen and hidden fields left out.
Registered from ``CustomersConfig.ready``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.actor import Actor
from autocrm.imports.exporting import (
    Column,
    Exporter,
    choice_label,
    field_label,
    register_exporter,
    sensitive_value,
    shown,
    user_name,
)

from .models import Customer
from .selectors import customer_list


class CustomerExporter(Exporter):
    model = Customer
    # "store": the store a director's list shows (the header's switch or the store filter);
    # customer_list narrows within the actor's scope only.
    filter_names = ("q", "kind", "lifecycle_stage", "source_channel", "district", "city", "consultant", "tag",
                    "external_id", "store")  # fmt: skip

    def queryset(self, actor: Actor, filters: Mapping[str, Any]) -> QuerySet[Any]:
        return (
            customer_list(actor=actor, filters=dict(filters), action="export")
            .select_related("consultant")
            .prefetch_related("tags")
            .order_by("id")
        )

    def columns(self, actor: Actor, full: bool) -> list[Column]:
        m = Customer

        def plain(name: str) -> Column:
            return Column(name, field_label(m, name), lambda o: getattr(o, name))

        def protected(name: str) -> Column:
            return Column(name, field_label(m, name), lambda o: sensitive_value(actor, o, name, full))

        cols = [
            Column("id", "ID", lambda o: o.pk),
            plain("name"),
            Column("kind", field_label(m, "kind"), choice_label("kind", m)),
            protected("mobile"),
            protected("other_phones"),
            Column("gender", field_label(m, "gender"), choice_label("gender", m)),
            plain("birthday"),
            protected("id_number"),
            plain("uscc"),
            plain("province"),
            plain("city"),
            plain("district"),
            protected("address"),
            plain("community"),
            plain("email"),
            plain("wechat_id"),
            Column("source_channel", field_label(m, "source_channel"), choice_label("source_channel", m)),
            Column("lifecycle_stage", field_label(m, "lifecycle_stage"), choice_label("lifecycle_stage", m)),
            Column("consultant", field_label(m, "consultant"), lambda o: user_name(o.consultant)),
            Column("tags", field_label(m, "tags"), lambda o: ",".join(sorted(t.name for t in o.tags.all()))),
            plain("external_id"),
            Column("created_at", _("created"), lambda o: timezone.localtime(o.created_at).replace(tzinfo=None)),
        ]
        return [c for c in cols if shown(actor, m, c.key)]


def register() -> None:
    """Called from ``CustomersConfig.ready``."""
    register_exporter("customers", CustomerExporter(), order=10)
