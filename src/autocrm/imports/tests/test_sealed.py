"""Uploads and the dry run's stage are encrypted at rest (core.sealedfile with the data key),
read back as seekable streams; orphan files are swept at night."""

from __future__ import annotations

import io
import os
import time

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import connection
from django.utils import timezone, translation

from autocrm.core import sealedfile
from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for
from autocrm.imports import importing, tasks
from autocrm.imports.importing import import_job_commit, import_job_create
from autocrm.imports.models import ImportJob

CSV = "客户姓名,手机号,身份证号,详细地址,外部编号\n张伟,13812345678,11010519491231002X,世纪大道100号,DMS-1\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_round_trip_seek_and_tampering(tmp_path, monkeypatch):
    monkeypatch.setattr(sealedfile, "CHUNK", 7)  # many chunks from a few bytes
    data = os.urandom(100)
    for size in (0, 7, 100):  # empty, exactly one chunk, several with a short last one
        path = tmp_path / f"f{size}"
        with sealedfile.open_write(path) as writer:
            writer.write(data[: size // 2])
            writer.write(data[size // 2 : size])
        assert size == 0 or data[:size] not in path.read_bytes()
        with sealedfile.open_read(path) as handle:
            assert handle.read() == data[:size]
            assert handle.seek(0, os.SEEK_END) == size
            handle.seek(size // 3)
            assert handle.read(5) == data[:size][size // 3 : size // 3 + 5]
    path = tmp_path / "f100"
    stored = bytearray(path.read_bytes())
    stored[-20] ^= 1  # one bit flipped in the last chunk
    (tmp_path / "bad").write_bytes(stored)
    with pytest.raises(sealedfile.SealedFileError), sealedfile.open_read(tmp_path / "bad") as handle:
        handle.read()
    (tmp_path / "cut").write_bytes(path.read_bytes()[: -(7 + 28)])  # the last chunk cut off
    with pytest.raises(sealedfile.SealedFileError), sealedfile.open_read(tmp_path / "cut") as handle:
        handle.read()
    (tmp_path / "plain").write_bytes(b"old upload")  # stored before encryption: read as it is
    with sealedfile.open_read(tmp_path / "plain") as handle:
        assert handle.read() == b"old upload"


def test_uploads_and_stages_hold_no_plain_personal_data(demo, tmp_path):
    manager = actor_for("manager_a")
    job = import_job_create(actor=manager, upload=SimpleUploadedFile("c.csv", CSV.encode()), kind="customers")
    assert job.status == "checked" and job.bad_rows == 0, job.error
    stored = (tmp_path / job.file.name).read_bytes()
    assert stored.startswith(sealedfile.MAGIC)
    for secret in ("13812345678", "11010519491231002X", "张伟", "世纪大道"):
        assert secret.encode() not in stored and secret.encode("gbk") not in stored
    with job.file.open("rb") as handle:  # the engine reads the plaintext back
        assert handle.read().decode() == CSV
    stages = list(tmp_path.rglob("*.stage"))
    assert len(stages) == (1 if connection.vendor == "postgresql" else 0)
    for stage in stages:
        raw = stage.read_bytes()
        assert raw.startswith(sealedfile.MAGIC) and "张伟".encode() not in raw and b"zhangwei" not in raw
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "done" and Customer.objects.get().address == "世纪大道100号"


def test_big_uploads_kept_by_django_in_a_temporary_file_are_sealed_too(demo, tmp_path):
    upload = TemporaryUploadedFile("big.csv", "text/csv", len(CSV.encode()), "utf-8")
    upload.write(CSV.encode())
    upload.seek(0)
    job = import_job_create(actor=actor_for("manager_a"), upload=upload, kind="customers")
    assert job.status == "checked" and job.total_rows == 1
    stored = (tmp_path / job.file.name).read_bytes()
    assert stored.startswith(sealedfile.MAGIC) and "张伟".encode() not in stored  # copied through, not moved
    upload.close()


def test_excel_uploads_are_read_through_the_encryption(demo, monkeypatch):
    monkeypatch.setattr(sealedfile, "CHUNK", 1000)  # the zip's directory sits in another chunk
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机"])
    for n in range(300):
        book.active.append([f"客户{n}", f"137{n:08d}"])
    buffer = io.BytesIO()
    book.save(buffer)
    job = import_job_create(
        actor=actor_for("manager_a"), upload=SimpleUploadedFile("c.xlsx", buffer.getvalue()), kind="customers"
    )
    assert (job.status, job.total_rows, job.bad_rows) == ("checked", 300, 0), job.error


def test_orphan_files_are_swept_at_night(demo, tmp_path):
    job = import_job_create(
        actor=actor_for("manager_a"), upload=SimpleUploadedFile("c.csv", CSV.encode()), kind="customers"
    )
    folder = tmp_path / "imports" / "2026" / "11"
    folder.mkdir(parents=True)
    old = time.time() - 2 * 3600
    orphans = [folder / "lost.csv", folder / "lost.csv.stage", folder / "gone.xlsx.stage.part"]
    for path in orphans:
        path.write_bytes(b"x")
        os.utime(path, (old, old))
    young = folder / "uploading.csv"  # its job's transaction may still be open
    young.write_bytes(b"x")
    held = tmp_path / job.file.name
    os.utime(held, (old, old))  # a job's own upload stays, however old (the retention rule decides)
    stage = held.with_name(held.name + ".stage")
    stage.write_bytes(b"x")
    os.utime(stage, (old, old))

    tasks.import_files_purge_task.call_local()

    assert not any(p.exists() for p in orphans)
    assert young.exists() and held.exists() and stage.exists()
    assert ImportJob.objects.get().file.name == job.file.name
    later = timezone.now() + importing.ORPHAN_AGE
    assert importing.import_orphans_purge(now=later) == 1 and not young.exists()
