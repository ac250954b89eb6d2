"""Bulk loader of demo customers and vehicles: ``autocrm demo --customers N [--seed S]``.

Streams ``demo.generators`` into the database with ``bulk_create`` in batches, so it scales to
the benchmark size (500,000 customers per store, 1.2 vehicles each, their odometer histories).
Writes bypass the services on purpose — the generator's data is valid by construction and
``tests/test_loader.py`` proves it against ``core.identifiers`` — but store exactly what the
services would: encrypted mobile/ID/address (``EncryptedTextField.get_prep_value`` runs in
``bulk_create`` and in ``core.bulk``'s COPY), blind indexes computed with
``BlindIndexField.compute`` (its ``pre_save`` does not run there), pinyin keys through
``customers.search.refresh_search_keys``, E.164 mobiles, normalised plates.

Every demo customer carries ``external_id`` ``demo:<key>``; a deliberate near-duplicate carries
``demo:<key>:dup:<original key>`` — the truth a duplicate finder is scored against: pair each
``…:dup:K`` row with the ``demo:K`` row of the same store. Near-duplicates do not get their
original's vehicles again (a VIN is unique in the organization).

Idempotent: a store that already has demo customers gets none. Both stores are drawn from one
generator (switching its city), so VINs never collide across the organization and the data is
the same for the same seed and N."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from autocrm.accounts.models import Membership
from autocrm.core.bulk import RawRows as _RawRows
from autocrm.core.bulk import insert_instances as _insert_instances
from autocrm.core.identifiers import clean_plate, plate_kind
from autocrm.core.roles import Role
from autocrm.customers.choices import Channel, ConsentPurpose, LifecycleStage, SourceChannel
from autocrm.customers.models import Consent, Customer, Tag, TimelineEvent
from autocrm.customers.search import refresh_search_keys
from autocrm.tenancy.models import Organization, Store
from autocrm.vehicles.catalogue import CatalogueEntry, catalogue_load, fuel_type_of
from autocrm.vehicles.choices import ReadingSource, Usage
from autocrm.vehicles.models import OdometerReading, Ownership, Trim, Vehicle

from .generators import MODELS, ROUTINE_GAP, DemoGenerator, DemoPerson

log = logging.getLogger(__name__)

DEFAULT_CUSTOMERS = 2000
BATCH = 2000
DUPLICATE_RATE = 0.03
EXTERNAL_PREFIX = "demo:"
STORE_CITIES = {"a": "上海", "b": "杭州"}  # store code → generator city (plates 沪 / 浙A)
# store code → days between routine visits (start, span): store b's own plan is 6-monthly (demo.maintenance)
STORE_ROUTINE_GAPS = {"b": (150, 46)}
STORE_KEY_STRIDE = 10_000_000  # store i's customer keys start at i * stride (mobiles stay distinct)
TAGS = ("高尔夫", "自驾游", "价格敏感", "商务人士", "亲子家庭", "新能源爱好者", "改装爱好者", "老客户推荐")
COLOURS = ("珍珠白", "曜石黑", "星空灰", "冰川蓝", "中国红", "银色", "香槟金")
SOURCES = [c for c in SourceChannel.values if c and c != SourceChannel.DMS]
CHANNELS = list(Channel.values)


@dataclass
class LoadStats:
    customers: int = 0
    duplicates: int = 0
    vehicles: int = 0
    readings: int = 0
    rows: int = 0
    seconds: float = 0.0
    skipped_stores: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def demo_external_id(person: DemoPerson) -> str:
    if person.duplicate_of is not None:
        return f"{EXTERNAL_PREFIX}{person.key}:dup:{person.duplicate_of}"
    return f"{EXTERNAL_PREFIX}{person.key}"


def catalogue_entries() -> list[CatalogueEntry]:
    seen: dict[tuple[str, str, str], CatalogueEntry] = {}
    for m in MODELS:
        seen.setdefault((m.brand, m.series, m.model), CatalogueEntry(m.brand, m.brand_en, m.series, m.model, m.fuel))
    return list(seen.values())


def load_catalogue() -> dict[tuple[str, str, str], Trim]:
    """The shared Brand → Series → Trim catalogue of the demo's real Chinese-market models."""
    return catalogue_load(catalogue_entries())


def _chunks(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(iterable)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class _Stamp:
    """Aware datetimes in the database's format, cached per (day, hour)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[int, int], Any] = {}
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())

    def __call__(self, day: dt.date, hour: int = 10) -> Any:
        key = (day.toordinal(), hour)
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = connection.ops.adapt_datetimefield_value(_aware(day, hour))
        return value


def _staff(store: Store, role: str) -> list[int]:
    return list(
        Membership.objects.filter(store=store, role=role, is_active=True)
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def _aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _next_anniversary(start: dt.date, today: dt.date, *, min_years: int = 1) -> dt.date:
    years = max(min_years, today.year - start.year)
    due = _add_years(start, years)
    while due < today:
        years += 1
        due = _add_years(start, years)
    return due


class _StoreLoader:
    """Builds the rows of one store, batch by batch."""

    def __init__(self, *, org: Organization, store: Store, trims: dict, today: dt.date, stats: LoadStats) -> None:
        self.org, self.store, self.trims, self.today, self.stats = org, store, trims, today, stats
        self.sales: list[int | None] = [*_staff(store, Role.SALES)] or [None]
        self.advisors: list[int | None] = [*_staff(store, Role.ADVISOR)] or [None]
        self.counter = 0
        self.tags = self._tags()
        self.tag_through = Customer.tags.through
        self.mobile_index = Customer._meta.get_field("mobile_index")
        self.id_index = Customer._meta.get_field("id_number_index")
        self.stamp = _Stamp()
        self.existing_vins = set(Vehicle.objects.filter(organization_id=org.pk).values_list("vin", flat=True))

    def _tags(self) -> list[int]:
        ids = []
        for name in TAGS:
            tag, _ = Tag.objects.get_or_create(store=self.store, name=name)
            ids.append(tag.pk)
        return ids

    def customer(self, person: DemoPerson) -> Customer:
        i = self.counter
        self.counter += 1
        key = person.key
        a = person.address
        vehicles = len(person.vehicles) if person.duplicate_of is None else 0
        stage = (
            LifecycleStage.PROSPECT
            if not vehicles
            else LifecycleStage.LOYAL
            if vehicles > 2
            else LifecycleStage.RETURNING
            if vehicles == 2
            else LifecycleStage.NEW
        )
        # Real records are not all complete: some walk-ins gave no street address, some no ID
        # number (the data-quality report has something to show). A near-duplicate lacks what
        # its original lacks, so the pair still shares its identifiers.
        base = key if person.duplicate_of is None else person.duplicate_of
        no_address = base % 50 == 7
        no_id = base % 25 == 11
        c = Customer(
            store=self.store,
            kind="person",
            name=person.name,
            mobile="+86" + clean_mobile(person.mobile),
            gender=person.gender,
            birthday=None if no_id else person.birth_date,  # None too when a near-duplicate has no ID
            id_number="" if no_id else person.id_number,
            province=a.province,
            city=a.city + "市" if not a.city.endswith("市") else a.city,
            district=a.district,
            address="" if no_address else a.line,
            community="" if no_address else a.community,
            wechat_id=f"wx_{key * 7919 % 10**8:08d}" if key % 3 else "",
            preferred_channel=CHANNELS[key % len(CHANNELS)],
            source_channel=SOURCES[key % len(SOURCES)],
            consultant_id=self.sales[i % len(self.sales)],
            advisor_id=self.advisors[i % len(self.advisors)] if vehicles else None,
            lifecycle_stage=stage,
            external_id=demo_external_id(person),
        )
        c.mobile_index = self.mobile_index.compute(c.mobile)
        c.id_number_index = self.id_index.compute(c.id_number)
        c.address_key = Customer._meta.get_field("address_key").compute(c.address)
        refresh_search_keys(c)
        return c

    def load(self, people: Iterable[DemoPerson]) -> None:
        for batch in _chunks(people, BATCH):
            with transaction.atomic():
                self._load_batch(batch)

    def _load_batch(self, batch: list[DemoPerson]) -> None:
        stats, store_id, stamp, now = self.stats, self.store.pk, self.stamp, self.stamp.now
        customers = _insert_instances(Customer, [self.customer(p) for p in batch])
        stats.customers += len(customers)
        stats.duplicates += sum(1 for p in batch if p.duplicate_of is not None)
        tags = _RawRows(self.tag_through, ("customer_id", "tag_id"))
        consents = _RawRows(
            Consent, ("store_id", "created_at", "updated_at", "customer_id", "purpose", "channel", "granted", "source",
                      "at", "withdrawn_at"),
        )  # fmt: skip
        events = _RawRows(
            TimelineEvent, ("store_id", "created_at", "updated_at", "customer_id", "kind", "at", "summary", "link",
                            "object_type", "object_id"),
        )  # fmt: skip
        vehicles: list[Vehicle] = []
        histories: list[list[tuple[dt.date, int]]] = []
        n_tags = len(self.tags)
        for person, customer in zip(batch, customers, strict=True):
            key, cid = person.key, customer.pk
            if key % 4 == 0:
                tags.add(cid, self.tags[key % n_tags])
            if key % 9 == 0 and (key // 9 + 1) % n_tags != key % n_tags:
                tags.add(cid, self.tags[(key // 9 + 1) % n_tags])
            at = stamp(person.vehicles[0].purchase_date if person.vehicles else self.today)
            consents.add(store_id, now, now, cid, ConsentPurpose.SERVICE.value, Channel.SMS.value, True, "展厅登记表",
                         at, None)  # fmt: skip
            if key % 5 < 3:
                consents.add(store_id, now, now, cid, ConsentPurpose.MARKETING.value, Channel.WECHAT.value,
                             key % 17 != 0, "微信公众号", at, None)  # fmt: skip
            # SMS marketing from about a third (ticked on the purchase contract), surveys from half
            if key % 20 < 7:
                consents.add(store_id, now, now, cid, ConsentPurpose.MARKETING.value, Channel.SMS.value,
                             key % 13 != 0, "购车合同", at, None)  # fmt: skip
            if key % 2 == 0:
                consents.add(store_id, now, now, cid, ConsentPurpose.SURVEY.value, Channel.SMS.value, True,
                             "展厅登记表", at, None)  # fmt: skip
            if person.duplicate_of is not None:
                continue
            for v in person.vehicles:
                vehicle = self.vehicle(customer, v)
                if vehicle is None:
                    continue
                vehicles.append(vehicle)
                histories.append(v.odometer)
                events.add(store_id, now, now, cid, "vehicle.purchased", stamp(v.purchase_date, 15),
                           f"购车 {v.model.brand} {v.model.model}", "", "", "")  # fmt: skip
        _insert_instances(Vehicle, vehicles)
        readings = _RawRows(
            OdometerReading, ("store_id", "created_at", "updated_at", "vehicle_id", "km", "at", "source",
                              "correction_reason"),
        )  # fmt: skip
        ownerships = _RawRows(
            Ownership, ("store_id", "created_at", "updated_at", "vehicle_id", "customer_id", "started_on", "ended_on",
                        "note"),
        )  # fmt: skip
        delivery, reception = ReadingSource.DELIVERY.value, ReadingSource.RECEPTION.value
        for vehicle, history in zip(vehicles, histories, strict=True):
            vid, cid = vehicle.pk, vehicle.customer_id
            ownerships.add(store_id, now, now, vid, cid, vehicle.purchase_date, None, "")
            for n, (day, km) in enumerate(history):
                at = stamp(day)
                readings.add(store_id, now, now, vid, km, at, reception if n else delivery, "")
                if n and n == len(history) - 1:  # the latest service visit (the full history is on the vehicle)
                    events.add(store_id, now, now, cid, "vehicle.service", at,
                               f"{vehicle.plate} 进店保养，里程 {km} 公里", "", "", "")  # fmt: skip
        stats.vehicles += len(vehicles)
        stats.readings += len(readings.rows)
        stats.rows += len(customers) + len(vehicles)
        for rows in (tags, consents, ownerships, readings, events):
            stats.rows += rows.flush()

    def vehicle(self, customer: Customer, v: Any) -> Vehicle | None:
        if v.vin in self.existing_vins:
            return None
        self.existing_vins.add(v.vin)
        m = v.model
        trim = self.trims.get((m.brand, m.series, m.model))
        plate = clean_plate(v.plate)
        purchase = v.purchase_date
        last_day, last_km = v.odometer[-1]
        age_years = (self.today - purchase).days / 365
        warranty_years = 6 if m.fuel != "燃油" else 3
        h = int(v.vin[-6:]) if v.vin[-6:].isdigit() else len(v.vin)
        return Vehicle(
            store=self.store,
            organization_id=self.org.pk,
            customer=customer,
            vin=v.vin,
            plate=plate,
            plate_kind=plate_kind(plate) or "",
            brand_id=trim.series.brand_id if trim else None,
            series_id=trim.series_id if trim else None,
            trim=trim,
            maker=m.maker,
            model_year=v.model_year,
            fuel_type=fuel_type_of(m.fuel),
            colour=COLOURS[h % len(COLOURS)],
            purchase_date=purchase,
            delivery_date=purchase + dt.timedelta(days=h % 15),
            mileage_km=last_km,
            mileage_at=_aware(last_day),
            warranty_end=_add_years(purchase, warranty_years),
            extended_warranty_end=_add_years(purchase, warranty_years + 2) if h % 4 == 0 else None,
            insurance_expiry=_next_anniversary(purchase, self.today),
            # Private cars are exempt from inspection for six years, then inspected every year or two.
            inspection_due=_next_anniversary(purchase, self.today, min_years=6) if age_years > 4 else None,
            usage=(Usage.FAMILY, Usage.FAMILY, Usage.BUSINESS, Usage.OFFROAD, Usage.FAMILY)[h % 5],
        )


def clean_mobile(typed: str) -> str:
    """The 11 national digits of a mobile typed in any of the generator's formats."""
    digits = "".join(ch for ch in typed if ch.isdigit())
    return digits[-11:]


def demo_customers_load(
    *,
    organization: Organization,
    stores: dict[str, Store],
    customers: int,
    seed: int = 42,
    today: dt.date | None = None,
    duplicate_rate: float = DUPLICATE_RATE,
) -> LoadStats:
    """Load ``customers`` generated customers (plus near-duplicates) into each demo store."""
    stats = LoadStats()
    if customers <= 0:
        return stats
    started = time.perf_counter()
    todo = {
        code: not Customer.objects.filter(store=store, external_id__startswith=EXTERNAL_PREFIX).exists()
        for code, store in stores.items()
        if code in STORE_CITIES
    }
    stats.skipped_stores = [code for code, load in todo.items() if not load]
    if not any(todo.values()):
        return stats
    trims = load_catalogue()  # trims come with their series loaded (brand_id, series_id without queries)
    gen = DemoGenerator(seed, city=STORE_CITIES["a"], today=today)
    today = gen.today
    for index, code in enumerate(sorted(todo)):
        gen.city = STORE_CITIES[code]
        gen.routine_gap = STORE_ROUTINE_GAPS.get(code, ROUTINE_GAP)
        people = gen.customers(customers, duplicate_rate=duplicate_rate, start=index * STORE_KEY_STRIDE)
        if not todo[code]:
            for _ in people:  # keep the generator's counters as a full run would leave them
                pass
            continue
        loader = _StoreLoader(org=organization, store=stores[code], trims=trims, today=today, stats=stats)
        loader.load(people)
    if connection.vendor == "postgresql":
        # Fresh statistics, or the planner takes a million new rows for a few hundred (and picks
        # a store-wide bitmap over the per-customer index on the 360 page's timeline).
        with connection.cursor() as cursor:
            for model in (Customer, Customer.tags.through, Consent, TimelineEvent, Vehicle, OdometerReading, Ownership):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    stats.seconds = time.perf_counter() - started
    log.info("demo data: %s customers, %s vehicles, %s rows in %.1fs", stats.customers, stats.vehicles, stats.rows,
             stats.seconds)  # fmt: skip
    return stats


def demo_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: customers per store from ``options["customers"]`` (0 or absent: none)."""
    global last_stats
    count = int(options.get("customers") or 0)
    last_stats = demo_customers_load(
        organization=organization, stores=stores, customers=count, seed=int(options.get("seed") or 42)
    )


# What the last demo run loaded (the command prints it).
last_stats: LoadStats | None = None
