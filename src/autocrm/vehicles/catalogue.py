"""Filling the shared Brand → Series → Trim catalogue (not store-scoped).

``catalogue_load`` takes plain entries — the demo passes the real Chinese-market models of
``demo.data.vehicles`` — and creates whatever is missing, so running it again changes nothing.
It returns the trims by ``(brand, series, trim name)`` for bulk loaders to point vehicles at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from .choices import FuelType
from .models import Brand, Series, Trim

# Fuel labels used in Chinese sources → FuelType values.
FUEL_BY_LABEL = {
    "燃油": FuelType.PETROL,
    "汽油": FuelType.PETROL,
    "混动": FuelType.HYBRID,
    "插混": FuelType.HYBRID,
    "纯电": FuelType.ELECTRIC,
    FuelType.PETROL.value: FuelType.PETROL,
    FuelType.HYBRID.value: FuelType.HYBRID,
    FuelType.ELECTRIC.value: FuelType.ELECTRIC,
}


@dataclass(frozen=True)
class CatalogueEntry:
    brand: str
    brand_en: str
    series: str
    trim: str
    fuel: str  # a FuelType value or a Chinese label (燃油/混动/纯电)
    vehicle_class: str = ""


def fuel_type_of(label: str) -> str:
    return str(FUEL_BY_LABEL.get(label, FuelType.PETROL))


@transaction.atomic
def catalogue_load(entries: Iterable[CatalogueEntry]) -> dict[tuple[str, str, str], Trim]:
    """Create the brands, series and trims of ``entries`` that do not exist yet (idempotent)."""
    entries = list(entries)
    brands = {b.name: b for b in Brand.objects.filter(name__in={e.brand for e in entries})}
    for entry in entries:
        if entry.brand not in brands:
            brands[entry.brand] = Brand.objects.create(name=entry.brand, name_en=entry.brand_en)
    series: dict[tuple[str, str], Series] = {
        (s.brand.name, s.name): s for s in Series.objects.filter(brand__in=brands.values()).select_related("brand")
    }
    for entry in entries:
        key = (entry.brand, entry.series)
        if key not in series:
            series[key] = Series.objects.create(
                brand=brands[entry.brand], name=entry.series, vehicle_class=entry.vehicle_class
            )
    trims: dict[tuple[str, str, str], Trim] = {}
    for trim in Trim.objects.filter(series__in=series.values()).select_related("series__brand"):
        trims.setdefault((trim.series.brand.name, trim.series.name, trim.name), trim)
    for entry in entries:
        trim_key = (entry.brand, entry.series, entry.trim)
        if trim_key not in trims:
            trims[trim_key] = Trim.objects.create(
                series=series[(entry.brand, entry.series)], name=entry.trim, fuel_type=fuel_type_of(entry.fuel)
            )
    return trims
