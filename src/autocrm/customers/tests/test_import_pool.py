"""A big dry run cleans and prepares its rows in a pool of processes (docs/adr/0041): the report
is the same as one process gives — every count, error, warning and its order — and the commit
writes the same customers."""

from __future__ import annotations

import contextlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.imports import importing
from autocrm.imports.importing import import_job_commit, import_job_create

HEADER = ["姓名", "手机号", "身份证号", "出生日期", "区", "详细地址", "外部编号", "销售顾问"]
ROWS = [
    ["孙丽", "13700003333", "", "1985-04-02", "锦江区", "人民路208号", "D-1"],
    ["孙丽", "137 0000 3333", "", "", "", "人民路208号", "D-2"],  # the same person as row 2: merged
    ["赵强", "13700004444", "", "", "", "成都市武侯区科华北路1号", "D-3"],  # one string: split
    ["张伟强", "138 1234 5678", "", "", "武侯区", "科华北路1号", "D-4"],  # a customer of the store
    ["钱多", "12345", "", "", "", "", "D-5"],  # a bad mobile: an error naming the field
    ["李静", "13700005555", "", "", "", "四川省成都市火星区人民路1号", "D-6"],  # unknown district: a warning
    ["周杰", "13700006666", "", "", "", "", "D-7", "没有这个人"],  # no such consultant: a warning
    ["吴敏", "13700007777", "11010519491231002X", "", "", "", "D-8"],
    ["吴敏", "13700008888", "11010519491231002X", "", "", "", "D-9"],  # the same ID number: merged
    ["", "13700009999", "", "", "", "", "D-10"],  # no name: an error
    ["郑爽", "13700001111", "", "1990-01-01", "锦江区", "", "D-11"],
    ["鄭爽", "13700002222", "", "1990-01-01", "锦江区", "", "D-12"],
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def pools(monkeypatch, settings):
    """Small batches (several in flight at once) and the pool for any file; what each dry run used."""
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    monkeypatch.setattr(importing, "POOL_ROWS", 0)
    used: list[bool] = []
    real = importing._pool

    @contextlib.contextmanager
    def spy(job):
        with real(job) as pool:
            used.append(pool is not None)
            yield pool

    monkeypatch.setattr(importing, "_pool", spy)
    return used


def upload():
    padded = [list(r) + [""] * (len(HEADER) - len(r)) for r in ROWS]
    text = "\n".join(",".join(r) for r in [HEADER, *padded]) + "\n"
    return SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")


def checked(actor, settings, processes):
    settings.AUTOCRM_IMPORT_PROCESSES = processes
    job = import_job_create(actor=actor, upload=upload(), kind="customers")
    assert job.status == "checked", job.error
    return job


def comparable(report):
    return {k: v for k, v in report.items() if k not in ("checked_at",)}


def test_the_pool_gives_the_report_one_process_gives(demo, settings, pools):
    manager = actor_for("manager_a")
    zhang = make_customer(manager, name="张伟", mobile="13812345678")
    alone = checked(manager, settings, 1)
    pooled = checked(manager, settings, 2)
    assert pools == [False, True]
    assert comparable(pooled.report) == comparable(alone.report)
    report = pooled.report
    assert (report["rows"], report["bad"], report["merged"], report["updates"]) == (12, 2, 2, 1)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(6, "mobile"), (11, "name")]
    fields = {(w["row"], w["field"]) for w in report["warnings"]}
    assert {(3, "mobile"), (5, "mobile"), (7, "address"), (8, "consultant"), (10, "id_number")} <= fields
    assert f"customer {zhang.pk}" in next(w["message"] for w in report["warnings"] if w["row"] == 5)

    job = import_job_commit(actor=manager, job=pooled, mode="valid_only")
    assert job.status == "done", job.error
    assert (job.created_count, job.updated_count) == (7, 1)
    store = Customer.objects.filter(store_id=manager.store_id)
    zhao = store.get(external_id="D-3")
    assert (zhao.city, zhao.district, zhao.address) == ("成都市", "武侯区", "科华北路1号")
    sun = store.get(external_id="D-1")
    assert sun.mobile == "+8613700003333" and store.filter(name="孙丽").count() == 1
    zhang.refresh_from_db()
    assert zhang.external_id == "D-4"


def test_a_small_file_or_one_process_has_no_pool(demo, settings, pools, monkeypatch):
    manager = actor_for("manager_a")
    checked(manager, settings, 1)
    monkeypatch.setattr(importing, "POOL_ROWS", 100)
    checked(manager, settings, 2)
    assert pools == [False, False]
