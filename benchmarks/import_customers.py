"""Benchmark: import of a 100,000-row customer CSV (issue 4 target: ≥ 5,000 rows/s including
validation, encryption and duplicate checks).

Builds the CSV with the demo generator (name, mobile, ID number, province/city/district,
street address, external id), migrates a fresh PostgreSQL database, creates the demo
organization, then times the dry run (check: parsing, validation, duplicate checks, and on
PostgreSQL the prepared rows it stages) and the commit (duplicate checks again, then the write;
from the stage when nothing changed — docs/adr/0004) separately and together, and a re-import of
the same file (every row an update by external id, which takes the checking path).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench_import \
        .venv/bin/python benchmarks/import_customers.py [--rows 100000] [--seed 1] [--no-reimport] \
        [--direct] [--vehicles] [--blank-ids SHARE] [--profile PATH]

``--direct`` also imports the file into store b in one step (the commit checks as it writes, no
dry run first); ``--vehicles`` then imports as many vehicles of store a's new customers (owner
found by mobile, VIN check digit, plate, catalogue); ``--profile PATH`` writes cProfiles of the first
dry run and commit (of the vehicles' with ``--vehicles``) to PATH.<kind>.check / .commit; ``--blank-ids 0.5`` leaves half the ID numbers out, as many DMS exports do.

The database named in DATABASE_URL is dropped and created again.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def database_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend so far (/proc: same machine), or None."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


def fresh_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not name or parsed.scheme not in ("postgres", "postgresql"):
        sys.exit("DATABASE_URL must name a PostgreSQL database")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_csv(path: Path, rows: int, seed: int, blank_ids: float = 0.0, one_string: bool = False) -> None:
    import random

    from autocrm.demo.generators import DemoGenerator

    generator = DemoGenerator(seed, city="上海")
    blank = random.Random(seed).random
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["客户姓名", "手机号", "身份证号", "省", "市", "区", "详细地址", "DMS编号"])
        for person in generator.customers(rows, duplicate_rate=0):
            a = person.address
            writer.writerow(
                [
                    person.name,
                    person.mobile,
                    "" if blank_ids and blank() < blank_ids else person.id_number,
                    "" if one_string else a.province,
                    "" if one_string else a.city,
                    "" if one_string else a.district,
                    a.full if one_string else a.line,
                    f"DMS{person.key:07d}",
                ]
            )


def build_vehicles_csv(path: Path, rows: int, seed: int) -> None:
    """The vehicles of the same customers (the same generator and seed), as a DMS exports them:
    one row per vehicle with the owner's mobile; ``rows`` vehicles (a VIN or plate the generator
    happened to give twice is left out)."""
    from autocrm.demo.generators import DemoGenerator

    generator = DemoGenerator(seed, city="上海")
    seen: set[str] = set()
    written = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["VIN", "车牌号", "车主手机", "品牌", "车系", "年款", "购车日期", "行驶里程", "车辆编号"])
        for person in generator.customers(rows, duplicate_rate=0):
            for vehicle in person.vehicles:
                if vehicle.vin in seen or vehicle.plate in seen:
                    continue
                seen.update((vehicle.vin, vehicle.plate))
                km = vehicle.odometer[-1][1] if vehicle.odometer else ""
                writer.writerow([vehicle.vin, vehicle.plate, person.mobile, vehicle.brand, vehicle.model.series,
                                 vehicle.model_year, vehicle.purchase_date.isoformat(), km, f"V{written:07d}"])  # fmt: skip
                written += 1
                if written >= rows:
                    return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-reimport", action="store_true")
    parser.add_argument(
        "--direct", action="store_true", help="also import into a second store in one step (no dry run first)"
    )
    parser.add_argument("--vehicles", action="store_true", help="then import as many vehicles of those customers")
    parser.add_argument("--blank-ids", type=float, default=0.0, metavar="SHARE", help="rows without an ID number (0–1)")
    parser.add_argument(
        "--one-string",
        action="store_true",
        help="the whole address in one column (上海市浦东新区张杨路…), province/city/district left blank for the import to fill",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="write cProfiles of the first dry run and commit to PATH.check and PATH.commit",
    )
    args = parser.parse_args()

    url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/autocrm_bench_import")
    work = Path(tempfile.mkdtemp(prefix="autocrm-bench-import-"))
    os.environ.setdefault("AUTOCRM_DATA_DIR", str(work / "data"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")
    fresh_database(url)

    import django

    django.setup()
    from django.core.files import File
    from django.core.management import call_command

    from autocrm.accounts.models import User
    from autocrm.accounts.selectors import actor_build
    from autocrm.customers.models import Customer
    from autocrm.demo.services import demo_create
    from autocrm.imports import importing
    from autocrm.tenancy.models import Store

    call_command("migrate", verbosity=0)
    demo_create()
    actor = actor_build(user=User.objects.get(username="manager_a"), store_id=Store.objects.get(code="a").pk)

    path = work / "customers.csv"
    t = time.perf_counter()
    build_csv(path, args.rows, args.seed, args.blank_ids, args.one_string)
    print(f"built {args.rows:,} rows in {time.perf_counter() - t:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")

    def profiled(prefix: str | None, step: str, func, **kwargs):
        if not prefix:
            return func(**kwargs)
        import cProfile

        # The process's CPU clock, not the wall's: on a shared machine a wall-clock profile charges
        # every function with the time the process waited for a core.
        profiler = cProfile.Profile(time.process_time)
        result = profiler.runcall(func, **kwargs)
        profiler.dump_stats(f"{prefix}.{step}")
        return result

    def run(label: str, source: Path = path, kind: str = "customers", *, store_code: str = "a",
            dry_run: bool = True, profile: bool = False) -> None:  # fmt: skip
        """Upload, dry run, commit — or, without ``dry_run``, commit at once: the commit then
        validates, encrypts and checks duplicates as it writes (the checking path), all or nothing."""
        who = actor if store_code == "a" else actor_build(
            user=User.objects.get(username=f"manager_{store_code}"), store_id=Store.objects.get(code=store_code).pk
        )  # fmt: skip
        prefix = f"{args.profile}.{kind}" if profile and args.profile else None
        with source.open("rb") as handle:
            t0 = time.perf_counter()
            job = importing.import_job_create(actor=who, upload=File(handle, name=source.name), kind=kind,
                                              check=False)  # fmt: skip
        t1, c1, k1, d1 = time.perf_counter(), time.process_time(), children_cpu(), database_cpu()
        if dry_run:
            job = profiled(prefix, "check", importing.import_job_check, actor=who, job=job, background=False)
            assert job.status == "checked" and job.bad_rows == 0, (job.status, job.error, job.report["errors"][:5])
        t2, c2, k2, d2 = time.perf_counter(), time.process_time(), children_cpu(), database_cpu()
        staged = importing._stage_path(job) is not None and importing._stage_path(job).exists()
        job = profiled(prefix, "commit", importing.import_job_commit, actor=who, job=job, background=False)
        t3, c3, k3, d3 = time.perf_counter(), time.process_time(), children_cpu(), database_cpu()
        assert job.status == "done", job.error
        n = job.total_rows
        print(f"\n{label}: {n:,} rows, {job.created_count:,} created, {job.updated_count:,} updated")
        print(f"  upload (store + count rows) {t1 - t0:6.2f} s")
        if dry_run:
            print(f"  check  (dry run)            {t2 - t1:6.2f} s  {n / (t2 - t1):8,.0f} rows/s")
        how = "(from the stage)" if staged else "(checked again)" if dry_run else "(checked as written)"
        print(f"  commit {how:20s} {t3 - t2:6.2f} s  {n / (t3 - t2):8,.0f} rows/s")
        if dry_run:
            print(f"  check + commit              {t3 - t1:6.2f} s  {n / (t3 - t1):8,.0f} rows/s")
        whole = "upload + check + commit" if dry_run else "upload + commit"
        print(f"  {whole:28s}{t3 - t0:6.2f} s  {n / (t3 - t0):8,.0f} rows/s")
        # CPU time of this process (Python: parsing, validation, encryption, ORM), which does not
        # grow when other work shares the machine; the database's own time is not in it.
        print(f"  CPU here: check {c2 - c1:.2f} s, commit {c3 - c2:.2f} s; load average {os.getloadavg()[0]:.1f}")
        # The dry run's pool processes (settings.AUTOCRM_IMPORT_PROCESSES; ended and waited for
        # when the step returns) and this connection's PostgreSQL backend.
        print(f"  CPU of the pool processes: check {k2 - k1:.2f} s, commit {k3 - k2:.2f} s")
        if d1 is not None:
            print(f"  CPU of the database backend: check {d2 - d1:.2f} s, commit {d3 - d2:.2f} s")
        print(
            f"  CPU in all (here + pool + database): {(c3 - c1) + (k3 - k1) + ((d3 - d1) if d1 is not None else 0):.2f} s"
        )

    # --profile: the first customer import, or with --vehicles the vehicles' import.
    run("first import", profile=not args.vehicles)
    if args.direct:
        run("import in one step into store b (no dry run)", store_code="b", dry_run=False)
    assert Customer.objects.filter(store__code="a").count() == args.rows
    if not args.no_reimport:
        run("re-import (updates by external id)")
        assert Customer.objects.filter(store__code="a").count() == args.rows
    if args.vehicles:
        from autocrm.vehicles.models import Vehicle

        vehicles = work / "vehicles.csv"
        build_vehicles_csv(vehicles, args.rows, args.seed)
        run("vehicles of those customers (linked by the owner's mobile)", vehicles, "vehicles", profile=True)
        assert Vehicle.objects.filter(store__code="a").count() == args.rows


if __name__ == "__main__":
    main()
