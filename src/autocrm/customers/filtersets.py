"""The customer list's filters — one definition for the list page and ``GET /api/v1/customers``
(``core.forms.FilterSet``): the page shows the search box and the pickers in ``page_fields``;
the API takes every field as a query parameter and refuses a bad value with a 400."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core.actor import Actor
from autocrm.core.forms import FilterSet
from autocrm.core.roles import CONSULTANT_ROLES, Role

from .choices import CustomerKind, LifecycleStage, SourceChannel
from .models import Customer


class CustomerFilterSet(FilterSet):
    model = Customer
    page_fields = ("store", "lifecycle_stage", "source_channel", "consultant")
    api_int_fields = ("store", "consultant")

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Name, pinyin (zw), mobile, last 4 digits, plate, VIN"),
            }
        ),
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), required=False)
    source_channel = forms.ChoiceField(label=_("Source channel"), required=False)
    consultant = forms.TypedChoiceField(label=_("Sales consultant"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    district = forms.CharField(label=_("District"), required=False, max_length=30)
    city = forms.CharField(label=_("City"), required=False, max_length=30)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=40)
    external_id = forms.CharField(label=_("External ID"), required=False, max_length=64)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        # cast: Form.fields is typed dict[str, Field]; these are the choice fields declared above.
        cast(forms.ChoiceField, self.fields["lifecycle_stage"]).choices = [
            ("", _("All stages")),
            *LifecycleStage.choices,
        ]
        cast(forms.ChoiceField, self.fields["source_channel"]).choices = [
            ("", _("All sources")),
            *[(v, label) for v, label in SourceChannel.choices if v],
        ]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", _("All kinds")), *CustomerKind.choices]
        if self.api:
            return
        if actor.role == Role.SALES:
            # A consultant sees only their own customers: the filter would say nothing.
            del self.fields["consultant"]
        else:
            # The consultants of the listed stores: every store of the list with "all stores".
            # (cast: FilterSet set the store choices as a list of pairs; the stubs type the getter
            # as any choices input.)
            store_ids = (
                [
                    v
                    for v, _label in cast(list[tuple[Any, Any]], cast(forms.ChoiceField, self.fields["store"]).choices)
                    if v
                ]
                if self.show_store
                else [actor.store_id]
            )
            members = (
                Membership.objects.filter(store_id__in=store_ids, role__in=CONSULTANT_ROLES, is_active=True)
                .select_related("user")
                .order_by("user__username")
            )
            seen: dict[int, str] = {}
            for m in members:
                seen.setdefault(m.user_id, m.user.display_name or m.user.username)
            cast(forms.ChoiceField, self.fields["consultant"]).choices = [("", _("All consultants")), *seen.items()]
