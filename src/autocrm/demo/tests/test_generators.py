"""Demo data is realistic enough to pass our own validators, unique where the database needs it,
and the same for the same seed."""

import datetime
import random
import statistics

import pytest
from stdnum.cn import ric

from autocrm.core.identifiers import (
    PLATE_NEW_ENERGY,
    PLATE_REGULAR,
    clean_plate,
    id_is_under_14,
    normalize_id_number,
    normalize_mobile,
    normalize_plate,
    plate_kind,
    vin_decode,
    vin_validate,
)
from autocrm.core.pinyin import pinyin_full
from autocrm.demo.data.names import HOMOPHONES
from autocrm.demo.generators import CITIES, MODELS, DemoGenerator, near_duplicate

TODAY = datetime.date(2026, 6, 1)
CITY_NAMES = list(CITIES)


def check_person(person, city, today=TODAY):
    info = CITIES[city]
    assert normalize_mobile(person.mobile) == "+86" + person.mobile
    assert normalize_id_number(person.id_number, today=today) == person.id_number
    assert ric.get_birth_date(person.id_number) == person.birth_date
    assert ric.get_birth_place(person.id_number)["province"] == info["province"]
    assert (int(person.id_number[16]) % 2 == 1) == (person.gender == "male")
    assert not id_is_under_14(person.id_number, today)
    assert person.address.city == city
    assert person.address.district in {d[0] for d in info["districts"]}
    assert 2 <= len(person.name) <= 4
    assert 1 <= len(person.vehicles) <= 3
    for vehicle in person.vehicles:
        vin, warnings = vin_validate(vehicle.vin)
        assert (vin, warnings) == (vehicle.vin, [])
        assert vehicle.vin[:3] in vehicle.model.wmis
        assert normalize_plate(vehicle.plate) == vehicle.plate
        assert vehicle.plate.startswith(info["plate_province"])
        assert vehicle.plate[1] in info["plate_letters"]
        expected_kind = PLATE_REGULAR if vehicle.fuel == "燃油" else PLATE_NEW_ENERGY
        assert plate_kind(vehicle.plate) == expected_kind
        if vehicle.fuel == "纯电":
            assert vehicle.plate[2] == "D"
        elif vehicle.fuel == "混动":
            assert vehicle.plate[2] == "F"
        assert today - datetime.timedelta(days=8 * 365) <= vehicle.purchase_date <= today
        dates = [d for d, _ in vehicle.odometer]
        kms = [km for _, km in vehicle.odometer]
        assert dates[0] == vehicle.purchase_date and dates == sorted(dates) and dates[-1] <= today
        assert kms == sorted(kms) and len(set(kms)) == len(kms)


def test_every_generated_identifier_validates_over_thousands_of_seeds():
    for seed in range(2500):
        city = CITY_NAMES[seed % len(CITY_NAMES)]
        generator = DemoGenerator(seed, city=city, today=TODAY)
        check_person(generator.person(seed), city)


def test_a_stream_of_customers_is_valid_and_unique_where_the_database_needs_it():
    people = list(DemoGenerator(7, city="杭州", today=TODAY).customers(6000, duplicate_rate=0.05))
    originals = [p for p in people if p.duplicate_of is None]
    duplicates = [p for p in people if p.duplicate_of is not None]
    assert len(originals) == 6000
    assert 150 < len(duplicates) < 450
    for person in originals:
        check_person(person, "杭州")
    vehicles = [v for p in originals for v in p.vehicles]
    assert 1.1 < len(vehicles) / len(originals) < 1.35
    assert len({v.vin for v in vehicles}) == len(vehicles)
    assert len({v.plate for v in vehicles}) == len(vehicles)
    assert len({p.mobile for p in originals}) == len(originals)
    assert len({p.id_number for p in originals}) == len(originals)
    assert len({p.key for p in people}) == len(people)


def test_realistic_mix_of_brands_fuels_and_yearly_mileage():
    people = list(DemoGenerator(3, today=TODAY).customers(3000, duplicate_rate=0))
    vehicles = [v for p in people for v in p.vehicles]
    brands = {v.brand for v in vehicles}
    assert {"比亚迪", "丰田", "大众", "特斯拉", "本田"} <= brands
    fuels = {v.fuel: sum(1 for x in vehicles if x.fuel == v.fuel) / len(vehicles) for v in vehicles}
    assert set(fuels) == {"燃油", "混动", "纯电"}
    assert 0.15 < fuels["纯电"] < 0.5
    yearly = [
        (v.odometer[-1][1] - v.odometer[0][1]) / ((v.odometer[-1][0] - v.odometer[0][0]).days / 365)
        for v in vehicles
        if (v.odometer[-1][0] - v.odometer[0][0]).days > 365
    ]
    assert 10_000 < statistics.median(yearly) < 14_000
    years = {v.purchase_date.year for v in vehicles}
    assert len(years) >= 8
    surnames = [p.name[0] for p in people]
    assert surnames.count("王") > surnames.count("孔") * 5


def test_catalogue_wmis_are_chinese_and_known_to_vininfo_where_listed():
    for model in MODELS:
        assert model.fuel in {"燃油", "混动", "纯电"}
        for wmi in model.wmis:
            info = vin_decode(wmi + model.vds + "0" + "N" + "A000001")
            assert info.country == "China"
            if wmi != "LW4":  # Li Auto: not in vininfo's table
                assert info.maker, wmi


def test_same_seed_same_data_different_seed_different_data():
    first = list(DemoGenerator(42, today=TODAY).customers(300))
    again = list(DemoGenerator(42, today=TODAY).customers(300))
    other = list(DemoGenerator(43, today=TODAY).customers(300))
    assert first == again
    assert [p.name for p in first] != [p.name for p in other]
    assert [v.vin for p in first for v in p.vehicles] != [v.vin for p in other for v in p.vehicles]


def test_near_duplicates_keep_the_truth_and_normalise_back_to_the_original():
    people = list(DemoGenerator(11, today=TODAY).customers(2000, duplicate_rate=0))
    by_key = {p.key: p for p in people}
    seen = set()
    for person in people:
        dup = near_duplicate(person)
        assert dup == near_duplicate(person)  # deterministic
        original = by_key[dup.duplicate_of]
        assert original is person and dup.mutations
        seen.update(dup.mutations)
        assert normalize_mobile(dup.mobile) == normalize_mobile(original.mobile)  # no new number given
        assert pinyin_full(dup.name) == pinyin_full(original.name)
        assert dup.id_number == original.id_number
        assert [v.vin for v in dup.vehicles] == [v.vin for v in original.vehicles]
        assert [clean_plate(v.plate) for v in dup.vehicles] == [v.plate for v in original.vehicles]
        if "name_homophone" in dup.mutations:
            assert dup.name != original.name and len(dup.name) == len(original.name)
        if "plate_format" in dup.mutations:
            assert [v.plate for v in dup.vehicles] != [v.plate for v in original.vehicles]
        if "mobile_format" in dup.mutations:
            assert dup.mobile != original.mobile
    assert seen == {"mobile_format", "name_homophone", "name_space", "plate_format"}
    # Mutating the copy never touches the original.
    dup = near_duplicate(people[0], rng=random.Random(1))
    dup.vehicles[0].odometer.append((TODAY, 1))
    assert people[0].vehicles[0].odometer[-1] != (TODAY, 1)


def test_homophones_sound_the_same():
    for char, alternatives in HOMOPHONES.items():
        for alt in alternatives:
            assert pinyin_full("王" + alt) == pinyin_full("王" + char), (char, alt)


def test_unknown_city_is_refused():
    with pytest.raises(ValueError, match="unknown city"):
        DemoGenerator(1, city="火星")


def test_some_near_duplicates_changed_phone_or_gave_no_id():
    people = list(DemoGenerator(5, today=TODAY).customers(8000, duplicate_rate=0.1))
    by_key = {p.key: p for p in people}
    dups = [p for p in people if p.duplicate_of is not None]
    changed = [d for d in dups if "mobile_changed" in d.mutations]
    no_id = [d for d in dups if "id_missing" in d.mutations]
    assert 0.08 < len(changed) / len(dups) < 0.25 and 0.15 < len(no_id) / len(dups) < 0.35
    for dup in changed:
        original = by_key[dup.duplicate_of]
        assert normalize_mobile(dup.mobile) != normalize_mobile(original.mobile)
        assert normalize_mobile(dup.mobile).startswith("+86")  # a valid mobile all the same
    for dup in no_id:
        assert dup.id_number == "" and dup.birth_date is None
    mobiles = [normalize_mobile(p.mobile) for p in people if p.duplicate_of is None or "mobile_changed" in p.mutations]
    assert len(set(mobiles)) == len(mobiles)  # a changed number is nobody else's
    assert any("mobile_changed" in d.mutations and "id_missing" in d.mutations for d in dups)
