from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.forms import StyledForm

from . import gifts


class TriggerForm(StyledForm):
    is_active = forms.BooleanField(label=_("On"), required=False)
    days_before = forms.IntegerField(label=_("Days before"), min_value=0, max_value=90)
    template_code = forms.CharField(label=_("Template code"), max_length=60)
    gift = forms.ChoiceField(label=_("Gift"), required=False)
    location = forms.CharField(
        label=_("Store city location"), required=False, max_length=20,
        help_text=_("Latitude,longitude of the store's city, for example 30.66,104.07."),
    )  # fmt: skip

    def __init__(self, *args: Any, weather: bool = False, store_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gift = self.fields["gift"]
        assert isinstance(gift, forms.ChoiceField)
        offered = gifts.options(store_id)
        current = self.initial.get("gift") or ""
        if current and current not in dict(offered):
            offered.append((current, current))  # a gift no longer offered stays visible until changed
        gift.choices = [("", _("No gift")), *offered]
        if not weather:
            del self.fields["location"]


class EventForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=100)
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(
        label=_("Ends at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    place = forms.CharField(label=_("Place"), max_length=200)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=10000)
    points = forms.IntegerField(label=_("Points for attending"), min_value=0, max_value=100000, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not gifts.points_available():
            del self.fields["points"]


class CustomerPickForm(StyledForm):
    customer = forms.IntegerField(label=_("Customer ID"), min_value=1)
