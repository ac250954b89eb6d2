"""The customer list's search box and filters, turned into ``customer_list`` filters."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.accounts.models import Membership
from autocrm.core.actor import Actor
from autocrm.core.roles import Role

from .choices import LifecycleStage, SourceChannel
from .forms import StyledForm


class CustomerFilterSet(StyledForm):
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
    lifecycle_stage = forms.ChoiceField(label=_("Lifecycle stage"), required=False)
    source_channel = forms.ChoiceField(label=_("Source channel"), required=False)
    consultant = forms.TypedChoiceField(label=_("Sales consultant"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["lifecycle_stage"]).choices = [
            ("", _("All stages")),
            *LifecycleStage.choices,
        ]
        cast(forms.ChoiceField, self.fields["source_channel"]).choices = [
            ("", _("All sources")),
            *[(v, label) for v, label in SourceChannel.choices if v],
        ]
        if actor.role == Role.SALES:
            # A consultant sees only their own customers: the filter would say nothing.
            del self.fields["consultant"]
        else:
            members = (
                Membership.objects.filter(
                    store_id=actor.require_store_id(), role__in=(Role.SALES, Role.MANAGER), is_active=True
                )
                .select_related("user")
                .order_by("user__username")
            )
            seen: dict[int, str] = {}
            for m in members:
                seen.setdefault(m.user_id, m.user.display_name or m.user.username)
            cast(forms.ChoiceField, self.fields["consultant"]).choices = [("", _("All consultants")), *seen.items()]

    def filters(self) -> dict[str, Any]:
        """Valid filters only: a bad value is dropped (and shown as an error), not an error page."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v not in (None, "") and k not in self.errors}
