"""The name search's index at a 600,000-customer store (issue 11; docs/adr/0042): each candidate
index measured with EXPLAIN ANALYZE on PostgreSQL over the same synthetic table, and what each one
costs a write.

    .venv/bin/python benchmarks/name_search_index.py --db h6_namebench [--per-store 604508] [--repeat 5]

A table ``namebench`` shaped like the customer table where the search reads it (id, store, name,
pinyin keys, and a filler standing for the row's other columns, encrypted ones included: the heap
rows a bitmap scan fetches are as wide as the real ones) gets two stores of ``--per-store`` people
named by the demo's generator (surnames weighted by frequency, given names from its pools), so a
common name (王伟) is as common as in ``autocrm demo --customers 500000``. Candidates:

- ``chars``: today's GIN over the name's characters (``regexp_split_to_array(name, '')``,
  customers migration 0003), the LIKE rechecking;
- ``trgm_gin`` / ``trgm_gist``: pg_trgm over the name (a two-character name has no trigram);
- ``grams``: a GIN over the name's characters *and* character pairs (``customer_name_grams``);
  a query of two characters or more asks for its pairs, one character for itself;
- ``exact``: a (store, name, id) btree read first, the substring search only when the exact
  names do not fill the page (changes the order of the results: exact names first).

For each query kind the median execution time of ``--repeat`` runs (after a warm one), the
buffers read, the rows the index handed to the heap; then each index's size and the extra time
it costs an INSERT of 20,000 rows (median of three). The database is created and dropped.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

PAGE = 51  # the API's page of 50 and the one more row that says whether there is a next page


def grams_function() -> str:
    """The function customers migration 0012 creates (the one measured is the one shipped)."""
    import importlib

    return importlib.import_module("autocrm.customers.migrations.0012_name_grams_index").FUNCTION


INDEXES = {
    "chars": "CREATE INDEX nb_chars ON namebench USING gin (regexp_split_to_array(name, ''))",
    "trgm_gin": "CREATE INDEX nb_trgm_gin ON namebench USING gin (name gin_trgm_ops)",
    "trgm_gist": "CREATE INDEX nb_trgm_gist ON namebench USING gist (name gist_trgm_ops)",
    "grams": "CREATE INDEX nb_grams ON namebench USING gin (customer_name_grams(name))",
    "exact": "CREATE INDEX nb_exact ON namebench (store_id, name, id)",
}


def grams_of(value: str) -> list[str]:
    from autocrm.customers.search import name_grams

    return name_grams(value)


def queries(candidate: str, value: str) -> list[tuple[str, tuple]]:
    """The statements the search would run with ``candidate`` for ``value``."""
    cols = "id, store_id, name, filler"
    like = "%" + value + "%"
    tail = f"ORDER BY id DESC LIMIT {PAGE}"
    if candidate == "chars":
        chars = sorted(set(value) - {" "})
        return [
            (
                f"SELECT {cols} FROM namebench WHERE store_id = 1 AND name LIKE %s "
                f"AND regexp_split_to_array(name, '') @> %s::text[] {tail}",
                (like, chars),
            )
        ]
    if candidate in ("trgm_gin", "trgm_gist"):
        return [(f"SELECT {cols} FROM namebench WHERE store_id = 1 AND name LIKE %s {tail}", (like,))]
    if candidate == "grams":
        return [
            (
                f"SELECT {cols} FROM namebench WHERE store_id = 1 AND name LIKE %s "
                f"AND customer_name_grams(name) @> %s::text[] {tail}",
                (like, grams_of(value)),
            )
        ]
    if candidate == "exact":
        return [
            (f"SELECT {cols} FROM namebench WHERE store_id = 1 AND name = %s {tail}", (value,)),
            (
                f"SELECT {cols} FROM namebench WHERE store_id = 1 AND name LIKE %s AND name <> %s "
                f"AND regexp_split_to_array(name, '') @> %s::text[] {tail}",
                (like, value, sorted(set(value) - {" "})),
            ),
        ]
    raise ValueError(candidate)


def explain(cursor, sql: str, params: tuple) -> dict:
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0][0]
    return plan


def walk(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def measure(cursor, candidate: str, value: str, repeat: int) -> dict:
    statements = queries(candidate, value)
    times, buffers, heap_rows, rows, kinds = [], 0, 0, 0, set()
    for run in range(repeat + 1):
        total = 0.0
        b = h = r = 0
        for i, (sql, params) in enumerate(statements):
            plan = explain(cursor, sql, params)
            total += plan["Execution Time"]
            top = plan["Plan"]
            got = top["Actual Rows"]
            for node in walk(top):
                kinds.add(node["Node Type"] + (":" + node["Index Name"] if "Index Name" in node else ""))
                if node["Node Type"] == "Bitmap Index Scan":
                    h += node["Actual Rows"]
            b += top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
            r += got
            if candidate == "exact" and i == 0 and got >= PAGE:
                break  # the exact names fill the page: no substring search
        if run:
            times.append(total)
            buffers, heap_rows, rows = b, h, r
    return {
        "ms": statistics.median(times),
        "buffers": buffers,
        "index_rows": heap_rows,
        "rows": min(rows, PAGE),
        "plan": sorted(kinds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="autocrm_namebench")
    parser.add_argument("--per-store", type=int, default=604_508)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import psycopg

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")
    import django

    django.setup()
    from autocrm.core.pinyin import pinyin_keys
    from autocrm.demo.generators import DemoGenerator

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
        admin.execute(f'CREATE DATABASE "{args.db}"')
    try:
        run(args, psycopg, pinyin_keys, DemoGenerator)
    finally:
        if not args.keep_db:
            with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')


def run(args, psycopg, pinyin_keys, DemoGenerator) -> None:
    conn = psycopg.connect(f"{args.pg}/{args.db}", autocommit=True)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    cur.execute(grams_function())
    cur.execute(
        "CREATE TABLE namebench (id bigserial PRIMARY KEY, store_id int NOT NULL, name varchar(100) NOT NULL, "
        "name_pinyin varchar(200) NOT NULL, name_initials varchar(60) NOT NULL, filler text NOT NULL)"
    )
    gen = DemoGenerator(args.seed)
    started = time.perf_counter()
    pinyin_memo: dict[str, tuple[str, str]] = {}
    filler = "x" * 420  # the encrypted mobile, ID number, address and the other columns of a row
    names: list[str] = []
    buffer = io.StringIO()
    for i in range(args.per_store * 2):
        name = gen.name("male" if gen.rng.random() < 0.5 else "female")
        if i % 2 == 0:
            names.append(name)
        keys = pinyin_memo.get(name)
        if keys is None:
            keys = pinyin_memo[name] = pinyin_keys(name)
        buffer.write(f"{1 + i % 2}\t{name}\t{keys[0]}\t{keys[1]}\t{filler}\n")
    buffer.seek(0)
    with cur.copy("COPY namebench (store_id, name, name_pinyin, name_initials, filler) FROM STDIN") as copy:
        copy.write(buffer.read())
    load_s = time.perf_counter() - started
    cur.execute("VACUUM ANALYZE namebench")
    print(f"loaded {args.per_store * 2:,} rows ({args.per_store:,} in store 1) in {load_s:.0f} s", flush=True)

    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    by_count = sorted(counts.items(), key=lambda kv: -kv[1])
    two = [n for n, _c in by_count if len(n) == 2]
    three = [n for n, _c in by_count if len(n) == 3]
    given = {}
    for n in names:
        if len(n) == 3:
            given[n[1:]] = given.get(n[1:], 0) + 1
    common_given = max(given, key=given.get)
    values = {
        "2-char name, most common": two[0],
        "2-char name, median": two[len(two) // 2],
        "3-char name, most common": three[0],
        "3-char name, median": three[len(three) // 2],
        "given name (2 chars)": common_given,
        "surname alone (1 char)": by_count[0][0][0],
    }
    print("queries:", json.dumps(values, ensure_ascii=False), flush=True)

    results: dict[str, dict] = {}
    sizes: dict[str, str] = {}
    for candidate, ddl in INDEXES.items():
        started = time.perf_counter()
        cur.execute(ddl)
        build_s = time.perf_counter() - started
        cur.execute("VACUUM ANALYZE namebench")
        index = ddl.split()[2]
        cur.execute("SELECT pg_size_pretty(pg_relation_size(%s))", (index,))
        sizes[candidate] = f"{cur.fetchone()[0]}, built in {build_s:.1f} s"
        results[candidate] = {label: measure(cur, candidate, value, args.repeat) for label, value in values.items()}
        # what it costs a write: 20,000 more rows inserted with and without it (median of 3)
        write = []
        for _ in range(3):
            cur.execute("BEGIN")
            t0 = time.perf_counter()
            cur.execute(
                "INSERT INTO namebench (store_id, name, name_pinyin, name_initials, filler) "
                "SELECT store_id, name, name_pinyin, name_initials, filler FROM namebench WHERE id <= 20000"
            )
            write.append(time.perf_counter() - t0)
            cur.execute("ROLLBACK")
        cur.execute(f"DROP INDEX {index}")
        base = []
        for _ in range(3):
            cur.execute("BEGIN")
            t0 = time.perf_counter()
            cur.execute(
                "INSERT INTO namebench (store_id, name, name_pinyin, name_initials, filler) "
                "SELECT store_id, name, name_pinyin, name_initials, filler FROM namebench WHERE id <= 20000"
            )
            base.append(time.perf_counter() - t0)
            cur.execute("ROLLBACK")
        per_row = (statistics.median(write) - statistics.median(base)) / 20000 * 1e6
        sizes[candidate] += f", +{per_row:.0f} µs per row written"
        print(f"{candidate}: {sizes[candidate]}", flush=True)
        for label, r in results[candidate].items():
            print(
                f"  {label:28} {r['ms']:8.2f} ms  buffers {r['buffers']:6}  index rows {r['index_rows']:7}"
                f"  rows {r['rows']:3}  {', '.join(r['plan'])}",
                flush=True,
            )
    if args.json:
        print(json.dumps({"values": values, "sizes": sizes, "results": results}, ensure_ascii=False, indent=1))
    conn.close()


if __name__ == "__main__":
    main()
