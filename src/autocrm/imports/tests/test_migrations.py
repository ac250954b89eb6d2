"""ImportJob moved from customers to imports without touching its table: rows written before
the move are the new model's rows after ``migrate``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from autocrm.imports.models import ImportJob
from autocrm.tenancy.models import Store

BEFORE = [("customers", "0006_blind_indexes_hashed"), ("imports", None)]


@pytest.mark.django_db(transaction=True)
def test_import_jobs_survive_the_move():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE[:1]).apps
        OldStore = old.get_model("tenancy", "Store")
        OldJob = old.get_model("customers", "ImportJob")
        organization = old.get_model("tenancy", "Organization").objects.create(name="集团", code="m")
        store = OldStore.objects.create(organization=organization, name="店", code="m", brand="比亚迪", city="上海")
        OldJob.objects.create(store=store, kind="vehicles", original_name="车辆.xlsx", status="done",
                              created_count=7, report={"rows": 7})  # fmt: skip
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    job = ImportJob.objects.get(store=Store.objects.get(code="m"))
    assert (job.kind, job.original_name, job.status, job.created_count, job.report) == (
        "vehicles", "车辆.xlsx", "done", 7, {"rows": 7},
    )  # fmt: skip
    assert ImportJob._meta.db_table == "customers_importjob"
