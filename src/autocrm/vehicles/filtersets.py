"""The vehicle list's filters — one definition for the list page and ``GET /api/v1/vehicles``
(``core.forms.FilterSet``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from autocrm.core.forms import FilterSet

from .choices import FuelType, Usage
from .models import Vehicle


class VehicleFilterSet(FilterSet):
    model = Vehicle
    page_fields = ("store", "fuel_type", "usage")
    api_int_fields = ("store", "customer")

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autocomplete": "off",
                "placeholder": _("Plate, last digits of a plate, VIN or its last six"),
            }
        ),
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    fuel_type = forms.ChoiceField(
        label=_("Fuel type"), required=False, choices=[("", _("All fuel types")), *FuelType.choices]
    )
    usage = forms.ChoiceField(
        label=_("Usage"),
        required=False,
        choices=[("", _("All usages")), *[(v, label) for v, label in Usage.choices if v]],
    )
    customer = forms.IntegerField(label=_("Owner"), required=False, widget=forms.HiddenInput)
    external_id = forms.CharField(label=_("External ID"), required=False, max_length=64)
