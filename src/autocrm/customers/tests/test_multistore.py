"""Customers, duplicates, the import API (mounted under /customers) and the data-quality report in the inherited role × scope
matrix (autocrm.core.testing): every page and API operation of the app, as every role, on the
actor's own customer, a colleague's, another store's and a missing one."""

from __future__ import annotations

import itertools

from autocrm.core.testing import MultistoreMatrix, Op
from autocrm.customers.models import Customer, CustomerMerge, DuplicatePair
from autocrm.imports.tests.test_multistore import JOB, build_job

C, PAIR, MERGE = "customers.customer", "customers.duplicatepair", "customers.customermerge"
_mobiles = itertools.count(1)


def build_customer(store, owner):
    return Customer.objects.create(
        store=store, name="矩阵客户", consultant=owner, mobile=f"1390{next(_mobiles):07d}", district="浦东新区"
    )


def build_pair(store, owner):
    """Two customers of ``owner`` that may be one person: the pair is theirs."""
    a, b = build_customer(store, owner), build_customer(store, owner)
    return DuplicatePair.objects.create(
        store=store, customer_a=a, customer_b=b, score=0.9, reasons=[{"code": "same_name"}]
    )


def build_merge(store, owner):
    survivor, merged = build_customer(store, owner), build_customer(store, owner)
    return CustomerMerge.objects.create(
        store=store, survivor=survivor, merged=merged, actor=owner, choices={}, moved={}
    )


CONSENT = {"purpose": "service", "channel": "sms", "action": "grant"}


class TestCustomersMultistore(MultistoreMatrix):
    builders = {C: build_customer, PAIR: build_pair, MERGE: build_merge, JOB: build_job}
    namespaces = ["customers", "duplicates", "quality"]
    api_prefixes = ["/customers"]
    ops = [
        # pages
        Op("customers:customer_list", C, "view", record=False),
        Op("customers:customer_create", C, "add", record=False),
        Op("customers:customer_detail", C, "view"),
        Op("customers:customer_edit", C, "change"),
        Op("customers:customer_timeline", C, "view"),
        Op("customers:customer_consent_part", C, "view"),
        Op("customers:customer_insights_part", C, "view"),
        Op("customers:customer_reveal", C, "reveal", method="POST", data={"field": "mobile"}),
        Op("customers:customer_tags", C, "change", method="POST", data={"add": "矩阵"}, ok=302),
        Op("customers:customer_consent", C, "change", method="POST", data=CONSENT, ok=302),
        Op("quality:quality_overview", C, "quality", record=False),
        Op("quality:quality_problem", C, "quality", record=False, args=("missing_mobile",)),
        Op("duplicates:duplicate_list", PAIR, "view", record=False),
        Op("duplicates:duplicate_find", PAIR, "change", method="POST", record=False, ok=302),
        Op("duplicates:duplicate_compare", PAIR, "view", through=(C,)),
        Op("duplicates:duplicate_dismiss", PAIR, "change", method="POST", through=(C,), ok=302, fresh=True),
        Op("duplicates:merge_detail", MERGE, "view"),
        Op("duplicates:merge_undo", MERGE, "undo", method="POST", ok=302, fresh=True),
        # API
        Op("/customers", C, "view", api=True, record=False),
        Op(
            "/customers",
            C,
            "add",
            api=True,
            record=False,
            method="POST",
            ok=201,
            data={"name": "矩阵新客户", "confirm_new": True},
        ),
        Op("/customers/{pk}", C, "view", api=True),
        Op("/customers/{pk}", C, "change", api=True, method="PATCH", data={"occupation": "教师"}),
        Op("/customers/{pk}/reveal?field=mobile", C, "reveal", api=True),
        Op("/customers/{pk}/assign", C, "assign", api=True, method="POST", data={"consultant": None}, fresh=True),
        Op("/customers/{pk}/consents", C, "view", api=True),
        Op(
            "/customers/{pk}/consents",
            C,
            "change",
            api=True,
            method="POST",
            ok=201,
            data={"purpose": "service", "channel": "sms"},
        ),
        Op(
            "/customers/{pk}/consents/withdraw",
            C,
            "change",
            api=True,
            method="POST",
            data={"purpose": "service", "channel": "sms"},
        ),
        Op("/customers/{pk}/timeline", C, "view", api=True),
        Op("/customers/quality", C, "quality", api=True, record=False),
        Op("/customers/duplicates", PAIR, "view", api=True, record=False),
        Op("/customers/duplicates/find", PAIR, "change", api=True, record=False, method="POST"),
        Op("/customers/duplicates/{pk}", PAIR, "view", api=True, through=(C,)),
        Op("/customers/duplicates/{pk}/dismiss", PAIR, "change", api=True, method="POST", through=(C,), fresh=True),
        Op("/customers/merges/{pk}", MERGE, "view", api=True),
        Op("/customers/imports/{pk}", JOB, "view", api=True),
        Op("/customers/export", C, "export", api=True, record=False),
    ]
    exempt = {
        "POST /api/v1/customers/{customer_id}/merge": "two customers per call; roles × scopes in test_merge",
        "POST /api/v1/customers/merges/{merge_id}/undo": "undoes a real merge; roles in test_merge",
        "POST /api/v1/customers/imports": "a file upload; roles in test_import",
        "POST /api/v1/customers/imports/{job_id}/mapping": "runs the import engine; roles in test_import",
        "POST /api/v1/customers/imports/{job_id}/choices": "runs the import engine; roles in test_import_duplicates",
        "POST /api/v1/customers/imports/{job_id}/commit": "runs the import engine; roles in test_import",
    }
