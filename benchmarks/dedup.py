"""Benchmark of the batch duplicate finder (issue 4: < 60 s for 100,000 customers, precision and
recall ≥ 0.95 against the demo generator's truth).

    .venv/bin/python benchmarks/dedup.py                       # 100,000 customers, temp SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench_dedup .venv/bin/python benchmarks/dedup.py
    .venv/bin/python benchmarks/dedup.py --customers 20000 --seed 7

The database is made fresh (a PostgreSQL database named in DATABASE_URL is dropped and
created again; without DATABASE_URL a temporary SQLite file is used), migrated, and filled
with ``DemoGenerator(seed).customers(N, duplicate_rate=…)`` through ``bulk_create``: mobiles,
ID numbers and addresses encrypted by the model fields, blind indexes by the fields'
``compute()``, pinyin keys by ``refresh_search_keys``. A near-duplicate shares its original's
vehicles (same VINs), so vehicles are inserted once, for the original, as a clerk would have
linked them. Then the finder runs over the store and its pairs are scored against
``duplicate_of``: every pair of records of one person is a true pair.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def fresh_database(url: str | None) -> str:
    """A URL of an empty database: the PostgreSQL one recreated, or a new SQLite file."""
    if not url:
        folder = tempfile.mkdtemp(prefix="autocrm-bench-dedup-")
        return f"sqlite:///{folder}/bench.sqlite3"
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg
        from psycopg import sql

        base, _, name = url.rpartition("/")
        name = name.split("?")[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("AUTOCRM_DATA_DIR", tempfile.mkdtemp(prefix="autocrm-bench-data-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def load(n: int, seed: int, duplicate_rate: float) -> tuple[int, dict[int, int], dict[int, tuple[int, str]]]:
    """Insert the generated customers; returns the store id and customer id → person key of the
    original (the truth)."""
    from django.db import transaction

    from autocrm.core.identifiers import clean_plate, normalize_mobile
    from autocrm.customers.models import Customer
    from autocrm.customers.search import refresh_search_keys
    from autocrm.demo.generators import DemoGenerator
    from autocrm.tenancy.models import Organization, Store
    from autocrm.vehicles.models import Vehicle

    org = Organization.objects.create(name="Bench", code="bench")
    store = Store.objects.create(organization=org, code="bench-a", name="Bench A", brand="比亚迪", city="上海")
    mobile_index = Customer._meta.get_field("mobile_index")
    id_index = Customer._meta.get_field("id_number_index")
    truth: dict[int, int] = {}
    record_of: dict[int, int] = {}  # an original's key → its record id
    copies: dict[int, tuple[int, str]] = {}  # a near-duplicate's record id → (its original's record id, kind)
    customers: list[Customer] = []
    vehicles: list[Vehicle] = []
    next_id = 1

    def flush() -> None:
        with transaction.atomic():
            Customer.objects.bulk_create(customers, batch_size=2000)
            Vehicle.objects.bulk_create(vehicles, batch_size=2000)
        customers.clear()
        vehicles.clear()

    for person in DemoGenerator(seed, city="上海").customers(n, duplicate_rate=duplicate_rate):
        mobile = "+86" + normalize_mobile(person.mobile)  # what customer_clean stores (E.164)
        a = person.address
        c = Customer(
            id=next_id,
            store_id=store.pk,
            kind="person",
            name=person.name,
            mobile=mobile,
            mobile_index=mobile_index.compute(mobile),
            id_number=person.id_number,
            id_number_index=id_index.compute(person.id_number),
            gender=person.gender,
            birthday=person.birth_date,
            province=a.province,
            city=a.city,
            district=a.district,
            address=a.line,
            community=a.community,
        )
        refresh_search_keys(c)
        customers.append(c)
        truth[next_id] = person.duplicate_of if person.duplicate_of is not None else person.key
        if person.duplicate_of is not None:
            changed, no_id = "mobile_changed" in person.mutations, "id_missing" in person.mutations
            kind = (
                "new mobile, no ID"
                if changed and no_id
                else "new mobile"
                if changed
                else "no ID"
                if no_id
                else "typed again"
            )
            copies[next_id] = (record_of[person.duplicate_of], kind)
        else:
            record_of[person.key] = next_id
            for v in person.vehicles:
                vehicles.append(
                    Vehicle(store_id=store.pk, organization_id=org.pk, customer_id=next_id, vin=v.vin,
                            plate=clean_plate(v.plate), model_year=v.model_year, purchase_date=v.purchase_date)
                )  # fmt: skip
        next_id += 1
        if len(customers) >= 10_000:
            flush()
    flush()
    return store.pk, truth, copies


def recall_by_kind(
    found: list[tuple[int, int, float]], copies: dict[int, tuple[int, str]]
) -> dict[str, tuple[int, int]]:
    """Per kind of near-duplicate: (copies found paired with their original, copies)."""
    pairs = {(min(a, b), max(a, b)) for a, b, _s in found}
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record, (original, kind) in copies.items():
        out[kind][1] += 1
        out[kind][0] += (min(record, original), max(record, original)) in pairs
    return {kind: (hit, total) for kind, (hit, total) in sorted(out.items())}


def score(found: list[tuple[int, int, float]], truth: dict[int, int]) -> dict[str, float]:
    clusters: dict[int, int] = defaultdict(int)
    for key in truth.values():
        clusters[key] += 1
    true_pairs = sum(k * (k - 1) // 2 for k in clusters.values())
    hits = sum(1 for a, b, _s in found if truth[a] == truth[b])
    return {
        "true_pairs": true_pairs,
        "true_positives": hits,
        "precision": hits / len(found) if found else 1.0,
        "recall": hits / true_pairs if true_pairs else 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000, help="originals to generate (default 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duplicate-rate", type=float, default=0.03)
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args()

    url = fresh_database(os.environ.get("DATABASE_URL"))
    setup_django(url)
    from django.db import connection

    from autocrm.customers.dedup import DEFAULT_THRESHOLD, duplicates_find

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    t0 = time.perf_counter()
    store_id, truth, copies = load(args.customers, args.seed, args.duplicate_rate)
    print(f"loaded {len(truth):,} customer records in {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    result = duplicates_find(store_id=store_id, threshold=args.threshold or DEFAULT_THRESHOLD)
    elapsed = time.perf_counter() - t0
    quality = score(result.found, truth)
    print(f"finder: {elapsed:.2f} s for {result.customers:,} customers "
          f"({result.candidate_pairs:,} candidate pairs, {result.skipped_blocks} oversized blocks split)")  # fmt: skip
    print(f"pairs found: {result.pairs:,}  true pairs: {quality['true_pairs']:,}  "
          f"true positives: {quality['true_positives']:,}")  # fmt: skip
    print(f"precision: {quality['precision']:.4f}  recall: {quality['recall']:.4f}")
    for kind, (hit, total) in recall_by_kind(result.found, copies).items():
        print(f"  near-duplicates, {kind}: {hit:,} of {total:,} found ({hit / total:.3f})")
    ok = elapsed < 60 and quality["precision"] >= 0.95 and quality["recall"] >= 0.95
    print("target (< 60 s, precision and recall >= 0.95):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
