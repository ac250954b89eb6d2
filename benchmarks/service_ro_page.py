"""After-sales: the repair-order page (issue 14 target: p95 < 150 ms) and the booking path.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/autocrm_bench_service AUTOCRM_DATA_DIR=/tmp/acrm_bench
    .venv/bin/python benchmarks/service_ro_page.py [--requests 200] [--jobs 12]

Migrates the database and creates the demo organization when missing, makes one repair order
with ``--jobs`` jobs (and a part per job), then opens its page ``--requests`` times as
``advisor_a1`` through Django's test client (the whole middleware stack, no network). Prints the
wall-clock p50/p95, CPU time per page (stable under load) and the load average;
then books ``--requests`` appointments (each takes the day's lock) and prints CPU and wall per
booking."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "autocrm.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=12)
    args = parser.parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from autocrm.accounts.models import User
    from autocrm.customers.tests.factories import actor_for
    from autocrm.demo.services import demo_create
    from autocrm.service import services
    from autocrm.service.tests.factories import make_car, make_ro

    if not User.objects.filter(username="advisor_a1").exists():
        demo_create()
    advisor = actor_for("advisor_a1")
    ro = make_ro(advisor)
    for n in range(args.jobs):
        job = services.job_add(actor=advisor, repair_order=ro, data={"code": f"J{n}", "name": f"作业{n}", "hours": "1"})
        services.part_add(actor=advisor, repair_order=ro, data={"name": f"配件{n}", "quantity": "1",
                                                                "unit_price": "10.00", "job": job.pk})  # fmt: skip
    client = Client()
    client.force_login(User.objects.get(username="advisor_a1"))
    url = reverse("service:repair_order_detail", args=[ro.pk])
    client.get(url)
    assert client.get(url).status_code == 200
    walls, cpus = [], []
    for _ in range(args.requests):
        w, c = time.perf_counter(), time.process_time()
        client.get(url)
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    walls.sort()
    p95 = walls[int(len(walls) * 0.95) - 1]
    print(f"repair-order page ({args.jobs} jobs, {args.jobs} parts, {connection.vendor}; queries: see test_views), "
          f"wall p50 {statistics.median(walls) * 1000:.1f} ms p95 {p95 * 1000:.1f} ms, "
          f"CPU {statistics.mean(cpus) * 1000:.1f} ms/page")  # fmt: skip
    customer, car = make_car(advisor)
    day = timezone.localdate() + dt.timedelta(days=400)
    tz = timezone.get_current_timezone()
    from autocrm.service.models import ServiceSettings

    ServiceSettings.objects.update_or_create(
        store_id=advisor.store_id, defaults={"bays": 1000, "advisor_capacity": 1000}
    )
    w, c = time.perf_counter(), time.process_time()
    for n in range(args.requests):
        start = dt.datetime.combine(day + dt.timedelta(days=n // 10), dt.time(9), tzinfo=tz)
        services.appointment_book(actor=advisor, customer=customer, vehicle=car, data={"starts_at": start.isoformat()})
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    print(f"booking: {args.requests / wall:.0f}/s wall, CPU {cpu / args.requests * 1000:.1f} ms/booking")
    print(f"load average: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
