"""ImportJob moved from customers to imports without touching its table: rows written before
the move are the new model's rows after ``migrate``."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from autocrm.imports.models import ImportJob
from autocrm.tenancy.models import Organization, Store

BEFORE = [("customers", "0006_blind_indexes_hashed"), ("imports", None)]


def test_import_jobs_survive_the_move(committed_db):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE[:1]).apps
        OldJob = old.get_model("customers", "ImportJob")
        # tenancy stays at its latest migration here, so its rows are written with today's models
        organization = Organization.objects.create(name="集团", code="m")
        store = Store.objects.create(organization=organization, name="店", code="m", brand="比亚迪", city="上海")
        OldJob.objects.create(store_id=store.pk, kind="vehicles", original_name="车辆.xlsx", status="done",
                              created_count=7, report={"rows": 7})  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    job = ImportJob.objects.get(store=Store.objects.get(code="m"))
    assert (job.kind, job.original_name, job.status, job.created_count, job.report) == (
        "vehicles", "车辆.xlsx", "done", 7, {"rows": 7},
    )  # fmt: skip
    assert ImportJob._meta.db_table == "customers_importjob"
