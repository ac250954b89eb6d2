"""Forms of the vehicle UI: parsing only; VIN/plate/date rules live in ``vehicles.services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from autocrm.core.errors import Conflict, DomainError
from autocrm.core.forms import StyledForm

from .choices import FuelType, ReadingSource, Usage
from .models import Brand, Series, Trim, Vehicle

DATE_FIELDS = (
    "purchase_date", "delivery_date", "warranty_end", "extended_warranty_end", "insurance_expiry", "inspection_due",
)  # fmt: skip


def _date(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


def _blank(choices: Any) -> list[tuple[Any, Any]]:
    return [("", "—"), *[(v, label) for v, label in choices if v != ""]]


class VinConflictLink:
    """A VIN already registered: said on the VIN field, with a link to the existing vehicle
    when the actor may see it (``core.forms.add_domain_errors`` asks the form first)."""

    def place_domain_error(self, exc: DomainError) -> bool:
        if not isinstance(exc, Conflict) or "vin" not in (exc.fields or {}) or "vin" not in self.fields:  # type: ignore[attr-defined]
            return False
        existing_id = getattr(exc, "existing_id", None)
        if existing_id:
            message: Any = format_html(
                '{} <a href="{}" data-testid="existing-vehicle">{}</a>',
                exc.message,
                reverse("vehicles:vehicle_detail", args=[existing_id]),
                _("Open the existing vehicle"),
            )
        else:
            message = str(exc.message)
        self.add_error("vin", message)  # type: ignore[attr-defined]
        return True


class VehicleForm(VinConflictLink, StyledForm):
    # Not required: a car known by its plate only is kept, its VIN added later (the service
    # needs one of the two and names the VIN when both are missing).
    vin = forms.CharField(label=_("VIN"), required=False, max_length=30,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "class": "text-uppercase"}))  # fmt: skip
    plate = forms.CharField(label=_("Plate"), required=False, max_length=20)
    brand = forms.TypedChoiceField(label=_("Brand"), required=False, coerce=int, empty_value=None)
    series = forms.TypedChoiceField(label=_("Series"), required=False, coerce=int, empty_value=None)
    trim = forms.TypedChoiceField(label=_("Trim"), required=False, coerce=int, empty_value=None)
    fuel_type = forms.ChoiceField(label=_("Fuel type"), required=False, choices=_blank(FuelType.choices))
    model_year = forms.IntegerField(label=_("Model year"), required=False)
    colour = forms.CharField(label=_("Colour"), required=False, max_length=20)
    usage = forms.ChoiceField(label=_("Usage"), required=False, choices=_blank(Usage.choices))
    purchase_date = _date(_("Purchase date"))
    delivery_date = _date(_("Delivery date"))
    warranty_end = _date(_("Warranty end"))
    extended_warranty_end = _date(_("Extended warranty end"))
    insurance_expiry = _date(_("Insurance expiry"))
    inspection_due = _date(_("Annual inspection due"))
    mileage_km = forms.IntegerField(label=_("Current mileage (km)"), required=False, min_value=0)
    external_id = forms.CharField(label=_("External ID"), required=False, max_length=64)

    def __init__(self, *args: Any, instance: Vehicle | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{n: getattr(instance, n) for n in self.base_fields if n not in ("brand", "series", "trim")},
                "brand": instance.brand_id,
                "series": instance.series_id,
                "trim": instance.trim_id,
            }
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["mileage_km"]  # readings are added on the vehicle page, with their history
        self.catalogue = Brand.objects.exists()
        if not self.catalogue:
            for name in ("brand", "series", "trim"):
                del self.fields[name]
            return
        brand_id = self._picked("brand")
        series_id = self._picked("series")
        cast(forms.ChoiceField, self.fields["brand"]).choices = [("", "—"), *Brand.objects.values_list("id", "name")]
        cast(forms.ChoiceField, self.fields["series"]).choices = series_options(brand_id)
        cast(forms.ChoiceField, self.fields["trim"]).choices = trim_options(series_id)

    def _picked(self, name: str) -> int | None:
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k != "mileage_km"}
        for name in ("brand", "series", "trim"):
            if data.get(name) is None:
                data.pop(name, None)
        return data


def series_options(brand_id: int | None) -> list[tuple[Any, Any]]:
    if not brand_id:
        return [("", "—")]
    return [("", "—"), *Series.objects.filter(brand_id=brand_id).order_by("name").values_list("id", "name")]


def trim_options(series_id: int | None) -> list[tuple[Any, Any]]:
    if not series_id:
        return [("", "—")]
    trims = Trim.objects.filter(series_id=series_id).order_by("-model_year", "name")
    return [("", "—"), *[(t.pk, f"{t.model_year or ''} {t.name}".strip()) for t in trims]]


class FirstVehicleForm(VinConflictLink, StyledForm):
    """The optional first vehicle on the customer create page: empty means no vehicle."""

    vin = forms.CharField(label=_("VIN"), required=False, max_length=30,
                          widget=forms.TextInput(attrs={"autocomplete": "off", "class": "text-uppercase"}))  # fmt: skip
    plate = forms.CharField(label=_("Plate"), required=False, max_length=20)
    mileage_km = forms.IntegerField(label=_("Current mileage (km)"), required=False, min_value=0)

    def is_empty(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(n) not in (None, "") for n in ("vin", "plate", "mileage_km"))


class ReadingForm(StyledForm):
    km = forms.IntegerField(label=_("Mileage (km)"), min_value=0)
    at = forms.DateTimeField(
        label=_("Read at"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    source = forms.ChoiceField(
        label=_("Source"),
        choices=[(v, label) for v, label in ReadingSource.choices if v != ReadingSource.CORRECTION],
        initial=ReadingSource.RECEPTION,
    )
    correction_reason = forms.CharField(
        label=_("Correction reason"), required=False, max_length=200,
        help_text=_("Needed when the mileage is lower than the last reading."),
    )  # fmt: skip


class TransferForm(StyledForm):
    new_owner = forms.IntegerField(label=_("New owner"), widget=forms.HiddenInput)
    on = _date(_("Transfer date"))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
