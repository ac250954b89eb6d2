"""The import engine's pages in the inherited role × scope matrix (autocrm.core.testing): the
job list, a job, its progress and the export, as every role, on the actor's own job, a
colleague's, another store's and a missing one. The import API is mounted under /customers and
is declared in customers' matrix."""

from __future__ import annotations

import itertools

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.imports.choices import ImportStatus
from autocrm.imports.models import ImportJob

JOB, C = "imports.importjob", "customers.customer"
_mobiles = itertools.count(1)


def build_customer(store, owner):
    return Customer.objects.create(
        store=store, name="矩阵导出客户", consultant=owner, mobile=f"1391{next(_mobiles):07d}", district="浦东新区"
    )


IMPORTS_PAGE = ((JOB, "view"), (C, "export"), ("maintenance.vehicledue", "export"))  # importers or exporters


def build_job(store, owner):
    return ImportJob.objects.create(
        store=store, kind="customers", file="imports/matrix.csv", original_name="matrix.csv",
        status=ImportStatus.DONE, created_by=owner,
    )  # fmt: skip


class TestImportsMultistore(MultistoreMatrix):
    builders = {JOB: build_job, C: build_customer}
    namespaces = ["imports"]
    api_prefixes: list[str] = []
    ops = [
        Op("imports:job_list", JOB, "view", record=False, any_of=IMPORTS_PAGE),
        Op("imports:job_detail", JOB, "view"),
        Op("imports:job_progress", JOB, "view"),
        Op("imports:export", C, "export", record=False, args=("customers",)),
    ]
