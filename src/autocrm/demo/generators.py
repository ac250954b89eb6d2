"""Deterministic generators of realistic Chinese customer and vehicle data (no database).

``DemoGenerator(seed).customers(n)`` yields the same people for the same seed and reference
date: names with surnames weighted by frequency, valid mobiles of real carrier prefixes, addresses
in real districts of five cities, resident ID numbers with the district's code and a correct
check character, vehicles of real Chinese-market models with VINs carrying the maker's WMI and a
correct check digit, plates of the store's city (green new-energy plates for 纯电/混动),
purchase dates over eight years and odometer histories. A share of deliberate near-duplicates
(``duplicate_of`` keeps the truth) lets the duplicate finder be scored.

Uniqueness by construction, so bulk inserts never collide: mobiles are a bijection of the
customer key, VIN serials and plates come from per-run counters spread by a multiplicative
permutation, ID sequence numbers from per-(region, birth date) counters. A near-duplicate shares
its original's vehicles (same VINs, plates typed differently): the loader should link them, as a
clerk would have, rather than insert the vehicles twice. Most near-duplicates keep the mobile and
ID number (typed differently); some were taken without the ID card, some after the customer
changed phone number — and a few both, leaving only the name, the address and the birth date.

Pure Python on ``random.Random``; see ``test_generators.py`` for the speed it reaches.
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import math
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from django.utils import timezone
from stdnum.cn import ric

from autocrm.core.identifiers import vin_with_check_digit
from autocrm.demo.data.names import GIVEN_FEMALE, GIVEN_MALE, HOMOPHONES, SURNAMES
from autocrm.demo.data.places import CITIES, COMMUNITY_PREFIXES, COMMUNITY_SUFFIXES, MOBILE_PREFIXES
from autocrm.demo.data.vehicles import CATALOGUE, FUEL_EV, FUEL_ICE

__all__ = [
    "CITIES",
    "MODELS",
    "DemoAddress",
    "DemoGenerator",
    "DemoModel",
    "DemoPerson",
    "DemoVehicle",
    "near_duplicate",
]

# Characters allowed in VIN positions other than the check digit (no I, O, Q).
_VIN_ALNUM = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"  # model-year codes from 1980 (A) in a 30-year cycle
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # 24 letters: no I, O
_PLATE_ALNUM = _PLATE_LETTERS + "0123456789"


@dataclass(frozen=True, slots=True)
class DemoModel:
    brand: str
    brand_en: str
    maker: str
    wmis: tuple[str, ...]
    series: str
    model: str
    fuel: str
    vds: str  # positions 4-8, fixed per model as a real VDS encodes body, engine and restraints


@dataclass(slots=True)
class DemoAddress:
    province: str
    city: str
    district: str
    street: str
    number: int
    community: str
    building: int
    room: int

    @property
    def line(self) -> str:
        return f"{self.street}{self.number}号{self.community}{self.building}栋{self.room}室"

    @property
    def full(self) -> str:
        province = "" if self.province.startswith(self.city) else self.province
        return f"{province}{self.city}市{self.district}{self.line}"


@dataclass(slots=True)
class DemoVehicle:
    model: DemoModel
    vin: str
    plate: str
    model_year: int
    purchase_date: datetime.date
    odometer: list[tuple[datetime.date, int]] = field(default_factory=list)

    @property
    def brand(self) -> str:
        return self.model.brand

    @property
    def fuel(self) -> str:
        return self.model.fuel


@dataclass(slots=True)
class DemoPerson:
    key: int
    name: str
    gender: str  # "male" / "female"
    birth_date: datetime.date | None
    id_number: str
    mobile: str  # as typed: 11 digits for originals, a variant format for near-duplicates
    address: DemoAddress
    vehicles: list[DemoVehicle] = field(default_factory=list)
    duplicate_of: int | None = None
    mutations: tuple[str, ...] = ()


def _build_models() -> tuple[DemoModel, ...]:
    models = []
    for brand, brand_en, _weight, makers in CATALOGUE:
        for maker, wmis, series_list in makers:
            for series, variants in series_list:
                for model, fuel in variants:
                    # A stable pseudo-VDS per model: crc32 is the same in every process, unlike hash().
                    h = zlib.crc32(f"{maker}/{model}".encode())
                    vds = "".join(_VIN_ALNUM[(h >> (5 * i)) % len(_VIN_ALNUM)] for i in range(5))
                    models.append(DemoModel(brand, brand_en, maker, wmis, series, model, fuel, vds))
    return tuple(models)


MODELS: tuple[DemoModel, ...] = _build_models()
_BRAND_WEIGHT = {brand: weight for brand, _en, weight, _m in CATALOGUE}
_MODELS_PER_BRAND = {m.brand: sum(1 for x in MODELS if x.brand == m.brand) for m in MODELS}
_MODEL_CUM = list(itertools.accumulate(_BRAND_WEIGHT[m.brand] / _MODELS_PER_BRAND[m.brand] for m in MODELS))
_SURNAME_CUM = list(itertools.accumulate(w for _s, w in SURNAMES))
_SURNAMES = [s for s, _w in SURNAMES]

_MOBILE_MULT = 48_271_337  # odd and not a multiple of 5: a bijection on 0..10**8-1
_VIN_SERIAL_MULT = 837_751  # coprime with 10**6
_REGULAR_SPACE = 100_000 + 5 * 24 * 10_000  # 5 digits, or one letter anywhere among 4 digits
_REGULAR_MULT = 999_983  # prime, coprime with the space (2^5 * 5^5 * 13)
_NEV_SPACE = 34 * 10_000  # D/F + letter-or-digit + 4 digits
_NEV_MULT = 99_991  # prime, coprime with 340,000


def _year_code(year: int) -> str:
    return _VIN_YEAR[(year - 1980) % 30]


# The share of owners who come back for the next service (ADR 0026); the demo's odometer does not
# draw on it yet (it would change the seeded stream the messy-data generator relies on).
RETURN_SHARE = {0: 0.94, 1: 0.67}
RETURN_LATER = 0.85
ROUTINE_GAP = (300, 91)  # days between routine visits after 首保: 300 + [0, 91) — a 12-month plan


class DemoGenerator:
    """Realistic customers for one city; same ``seed`` and ``today`` → same data."""

    def __init__(self, seed: int = 0, *, city: str = "上海", today: datetime.date | None = None) -> None:
        if city not in CITIES:
            raise ValueError(f"unknown city {city!r}; choose from {', '.join(CITIES)}")
        self.seed = seed
        self.city = city
        self.today = today or timezone.localdate()
        self.rng = random.Random(seed)
        self.routine_gap = ROUTINE_GAP  # a store whose plan asks for another rhythm sets its own
        # random() is several times faster than randrange()/randint()/choice(); the hot paths use it.
        self._r = self.rng.random
        self._mobile_offset = self.rng.randrange(10**8)
        self._vin_offset = self.rng.randrange(10**6)
        self._vehicle_counter = 0
        self._plate_counters: dict[str, int] = {}
        self._id_counters: dict[tuple[str, int], int] = {}
        self._plate_offset = self.rng.randrange(_NEV_SPACE)

    # ------------------------------------------------------------------ people

    def name(self, gender: str) -> str:
        r = self._r
        surname = _SURNAMES[bisect.bisect(_SURNAME_CUM, r() * _SURNAME_CUM[-1])]
        pool = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
        size = len(pool)
        if r() < 0.3:
            return surname + pool[int(r() * size)]
        return surname + pool[int(r() * size)] + pool[int(r() * size)]

    def mobile(self, key: int) -> str:
        """11 digits, real carrier prefix; distinct keys never share a number."""
        prefix = MOBILE_PREFIXES[int(self._r() * len(MOBILE_PREFIXES))]
        suffix = (key * _MOBILE_MULT + self._mobile_offset) % 10**8
        return f"{prefix}{suffix:08d}"

    def birth_date(self, *, min_age: int = 20, max_age: int = 72) -> datetime.date:
        # Cap at 2020: the region-code table used to validate IDs ends there.
        latest = min(
            self.today.replace(month=1, day=1).toordinal() - 365 * min_age, datetime.date(2020, 12, 31).toordinal()
        )
        earliest = self.today.toordinal() - 365 * max_age
        return datetime.date.fromordinal(earliest + int(self._r() * (latest - earliest + 1)))

    def id_number(self, district: tuple, birth: datetime.date, gender: str) -> str:
        _name, code, since, _streets = district
        if birth.year < since:
            code = CITIES[self.city]["city_code"]
        bucket = (code, birth.toordinal())
        n = self._id_counters.get(bucket, 0)
        self._id_counters[bucket] = n + 1
        # Sequence: odd for men, even for women; 500 of each per region and day.
        # A per-bucket offset stepped by 211 (coprime with 500) keeps them distinct and unordered.
        seq = (bucket[1] * 31 + int(code) + n * 211) % 500 * 2 + (1 if gender == "male" else 0)
        body = f"{code}{birth:%Y%m%d}{seq:03d}"
        return body + ric.calc_check_digit(body + "0")

    def address(self) -> tuple[DemoAddress, tuple]:
        r = self._r
        info = CITIES[self.city]
        districts = info["districts"]
        district = districts[int(r() * len(districts))]
        streets = district[3]
        community = (
            COMMUNITY_PREFIXES[int(r() * len(COMMUNITY_PREFIXES))]
            + COMMUNITY_SUFFIXES[int(r() * len(COMMUNITY_SUFFIXES))]
        )
        address = DemoAddress(
            province=info["province"],
            city=self.city,
            district=district[0],
            street=streets[int(r() * len(streets))],
            number=1 + int(r() * 1999),
            community=community,
            building=1 + int(r() * 32),
            room=(1 + int(r() * 33)) * 100 + 1 + int(r() * 6),
        )
        return address, district

    def person(self, key: int) -> DemoPerson:
        r = self._r
        gender = "male" if r() < 0.62 else "female"  # car buyers skew male
        birth = self.birth_date()
        address, district = self.address()
        person = DemoPerson(
            key=key,
            name=self.name(gender),
            gender=gender,
            birth_date=birth,
            id_number=self.id_number(district, birth, gender),
            mobile=self.mobile(key),
            address=address,
        )
        count = 1 if r() < 0.82 else (2 if r() < 0.9 else 3)
        person.vehicles = [self.vehicle() for _ in range(count)]
        return person

    # ------------------------------------------------------------------ vehicles

    def model(self) -> DemoModel:
        return MODELS[bisect.bisect(_MODEL_CUM, self._r() * _MODEL_CUM[-1])]

    def vin(self, model: DemoModel, model_year: int) -> str:
        """Maker's WMI, the model's VDS, correct check digit, model-year code, plant, unique serial."""
        i = self._vehicle_counter
        self._vehicle_counter += 1
        serial = (i * _VIN_SERIAL_MULT + self._vin_offset) % 10**6
        plant = _VIN_ALNUM[(i // 10**6 + zlib.crc32(model.maker.encode())) % len(_VIN_ALNUM)]
        wmi = model.wmis[int(self._r() * len(model.wmis))]
        return vin_with_check_digit(f"{wmi}{model.vds}{_year_code(model_year)}{plant}{serial:06d}")

    def plate(self, fuel: str) -> str:
        """A plate of the generator's city; green new-energy plate (D electric, F hybrid) for 纯电/混动."""
        info = CITIES[self.city]
        letters = info["plate_letters"]
        prefix = info["plate_province"] + letters[int(self._r() * len(letters))]
        if fuel == FUEL_ICE:
            counter_key = prefix
            n = self._plate_counters.get(counter_key, 0)
            self._plate_counters[counter_key] = n + 1
            j = (n * _REGULAR_MULT + self._plate_offset + zlib.crc32(prefix.encode())) % _REGULAR_SPACE
            if j < 100_000:
                return f"{prefix}{j:05d}"
            j -= 100_000
            pos, rest = divmod(j, 240_000)
            letter, digits = divmod(rest, 10_000)
            serial = f"{digits:04d}"
            return prefix + serial[:pos] + _PLATE_LETTERS[letter] + serial[pos:]
        kind = "D" if fuel == FUEL_EV else "F"
        counter_key = prefix + kind
        n = self._plate_counters.get(counter_key, 0)
        self._plate_counters[counter_key] = n + 1
        j = (n * _NEV_MULT + self._plate_offset + zlib.crc32(counter_key.encode())) % _NEV_SPACE
        second, digits = divmod(j, 10_000)
        return f"{prefix}{kind}{_PLATE_ALNUM[second]}{digits:04d}"

    def odometer(self, purchase: datetime.date) -> list[tuple[datetime.date, int]]:
        """Readings at service visits: lognormal yearly mileage around 12,000 km, never decreasing.
        Owners follow the plan — 首保 five to seven months after delivery, then a visit every ten
        to thirteen months (``routine_gap``: a store on a six-month plan sets 150 + [0, 46) days) — and
        drift away (``RETURN_SHARE``): about 94 % come to 首保, two in
        three of them to 二保, then 85 % to each later visit; the others go to independent shops.

        The seeded stream is drawn exactly as before the drift existed (the messy-data generator
        and the demo's other figures rely on it); the visits are timed by a side generator seeded
        from this car's own draws."""
        r = self._r
        per_day = self.rng.lognormvariate(math.log(12_000), 0.45) / 365
        day = purchase.toordinal()
        last = self.today.toordinal()
        km = first_km = 3 + int(r() * 58)
        while True:  # the draws of the original five-to-thirteen-month visits, kept for the stream
            gap = 150 + int(r() * 251)
            day += gap
            if day > last:
                break
            km += int(per_day * gap * (0.7 + 0.6 * r())) + 1
        side = random.Random(zlib.crc32(f"{purchase.toordinal()}-{first_km}-{per_day:.9f}".encode()))
        lo, span = self.routine_gap
        day, km = purchase.toordinal(), first_km
        readings = [(purchase, km)]
        while True:
            visits = len(readings) - 1
            if side.random() >= RETURN_SHARE.get(visits, RETURN_LATER):
                return readings  # switched to an independent shop
            gap = 150 + int(side.random() * 61) if visits == 0 else lo + int(side.random() * span)
            day += gap
            if day > last:
                return readings
            km += int(per_day * gap * (0.7 + 0.6 * side.random())) + 1
            readings.append((datetime.date.fromordinal(day), km))

    def vehicle(self) -> DemoVehicle:
        r = self._r
        model = self.model()
        # Purchases spread over eight years before the reference date.
        purchase = datetime.date.fromordinal(self.today.toordinal() - int(r() * 8 * 365))
        model_year = purchase.year + (1 if purchase.month >= 10 and r() < 0.5 else 0)
        return DemoVehicle(
            model=model,
            vin=self.vin(model, model_year),
            plate=self.plate(model.fuel),
            model_year=model_year,
            purchase_date=purchase,
            odometer=self.odometer(purchase),
        )

    # ------------------------------------------------------------------ streams

    def customers(self, n: int, *, duplicate_rate: float = 0.03, start: int = 0) -> Iterator[DemoPerson]:
        """``n`` customers with keys ``start…``; after each, with ``duplicate_rate``, a near-duplicate of a
        recent customer (keys continue after ``start + n`` so the originals' keys stay dense)."""
        recent: list[DemoPerson] = []
        dup_key = start + n
        for key in range(start, start + n):
            person = self.person(key)
            yield person
            recent.append(person)
            if len(recent) > 1000:
                del recent[:500]
            if duplicate_rate and self.rng.random() < duplicate_rate:
                original = recent[self.rng.randrange(len(recent))]
                # A number no original has (keys of originals stay far below 50,000,000).
                new_mobile = self.mobile(50_000_000 + dup_key)
                yield near_duplicate(original, key=dup_key, rng=self.rng, new_mobile=new_mobile)
                dup_key += 1


# ---------------------------------------------------------------------- near-duplicates


def _mobile_variant(mobile: str, rng: random.Random) -> str:
    m = mobile
    return rng.choice(
        (
            f"+86 {m[:3]} {m[3:7]} {m[7:]}",
            f"{m[:3]}-{m[3:7]}-{m[7:]}",
            f"+86{m}",
            f"0086{m}",
            f"{m[:3]} {m[3:7]} {m[7:]}",
        )
    )


def _homophone(name: str, rng: random.Random) -> str | None:
    positions = [i for i, ch in enumerate(name) if i > 0 and ch in HOMOPHONES]
    if not positions:
        return None
    i = rng.choice(positions)
    return name[:i] + rng.choice(HOMOPHONES[name[i]]) + name[i + 1 :]


def _plate_variant(plate: str, rng: random.Random) -> str:
    variant = rng.randrange(3)
    if variant == 0:
        return plate[:2] + " " + plate[2:]
    if variant == 1:
        return plate[:2] + "·" + plate[2:].lower()
    return plate.lower()


def near_duplicate(
    person: DemoPerson, *, key: int | None = None, rng: random.Random | None = None, new_mobile: str | None = None
) -> DemoPerson:
    """The same customer typed again by someone else: mobile in another format, a homophone in the
    name or a space inside it, plates with spaces or lower case; harder, with ``new_mobile`` given,
    a changed phone number (15%), and the ID number not taken (25%; birth date then unknown too).
    ``duplicate_of`` and ``mutations`` record the truth. Always at least one change; the same
    inputs give the same copy."""
    rng = rng or random.Random(person.key * 7919 + 17)
    mutations: list[str] = []
    name, mobile, vehicles = person.name, person.mobile, person.vehicles
    id_number, birth_date = person.id_number, person.birth_date
    if new_mobile is not None and rng.random() < 0.15:
        mobile = new_mobile
        mutations.append("mobile_changed")
    elif rng.random() < 0.7:
        mobile = _mobile_variant(person.mobile, rng)
        mutations.append("mobile_format")
    if new_mobile is not None and rng.random() < 0.25:
        id_number = ""
        mutations.append("id_missing")
    roll = rng.random()
    if roll < 0.5:
        typo = _homophone(name, rng)
        if typo is not None:
            name = typo
            mutations.append("name_homophone")
    elif roll < 0.7:
        name = name[:1] + " " + name[1:]
        mutations.append("name_space")
    if vehicles and (rng.random() < 0.6 or not mutations):
        vehicles = [replace(v, plate=_plate_variant(v.plate, rng), odometer=list(v.odometer)) for v in vehicles]
        mutations.append("plate_format")
    if not mutations:
        mobile = _mobile_variant(person.mobile, rng)
        mutations.append("mobile_format")
    return replace(
        person,
        key=person.key if key is None else key,
        name=name,
        mobile=mobile,
        id_number=id_number,
        birth_date=birth_date if id_number else None,
        address=replace(person.address),
        vehicles=list(vehicles),
        duplicate_of=person.key,
        mutations=tuple(mutations),
    )
