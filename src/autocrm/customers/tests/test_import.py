"""Import of customers and vehicles from CSV/Excel: parsing, mapping, dry run, commit modes,
external_id upsert, vehicles linked by the owner's mobile, the worker path, the API."""

from __future__ import annotations

import datetime as dt
import io
import threading

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone, translation

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core import identifiers
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.customers.importing import CustomerImporter
from autocrm.customers.models import Customer, TimelineEvent
from autocrm.customers.search import customer_search
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.demo.services import demo_create
from autocrm.imports import importing
from autocrm.imports.importing import (
    auto_map,
    import_job_check,
    import_job_commit,
    import_job_create,
    import_job_get,
)
from autocrm.imports.models import ImportJob
from autocrm.vehicles.models import OdometerReading, Ownership, Vehicle

HEADER = ["客户姓名", "手机号", "身份证号", "性别", "出生日期", "省", "市", "区", "详细地址", "外部编号"]
GOOD = [
    [
        "张伟",
        "13812345678",
        "11010519491231002X",
        "男",
        "1949/12/31",
        "上海市",
        "上海",
        "浦东新区",
        "世纪大道100号",
        "DMS-1",
    ],
    ["李娜", "139 0000 1111", "", "女", "", "上海市", "上海", "徐汇区", "漕溪北路1号", "DMS-2"],
    ["王芳", "+86 137-0000-2222", "", "", "", "上海市", "上海", "闵行区", "", "DMS-3"],
]
BAD = ["赵强", "12345", "11010519491231002Y", "", "", "", "", "", "", "DMS-4"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    # Reasons are stored in the uploader's language; most tests read them in English.
    with translation.override("en"):
        yield


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def csv_upload(rows, *, encoding="utf-8", name="customers.csv", header=HEADER):
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def xlsx_upload(rows, *, name="customers.xlsx"):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def reasons(job):
    return {(b["row"], r["field"]) : r["message"] for b in importing.bad_rows_grouped(job) for r in b["reasons"]}  # fmt: skip


# --------------------------------------------------------------------------- parsing and mapping


def test_header_auto_mapping_chinese_and_english():
    importer = CustomerImporter()
    headers = [
        "序号",
        "客户姓名",
        "手机号(必填)",
        "身份证号码",
        "Birth Date",
        "E-mail",
        "DMS编号",
        "区/县",
        "微信",
        "备注",
    ]
    assert auto_map(headers, importer) == {
        "name": 1, "mobile": 2, "id_number": 3, "birthday": 4, "email": 5, "external_id": 6, "district": 7,
        "wechat_id": 8,
    }  # fmt: skip
    assert auto_map(["Name", "Mobile", "ID_Number", "external_id"], importer) == {
        "name": 0, "mobile": 1, "id_number": 2, "external_id": 3,
    }  # fmt: skip


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_in_gbk_and_utf8_is_read(manager, encoding):
    job = import_job_create(actor=manager, upload=csv_upload(GOOD, encoding=encoding), kind="customers")
    assert job.status == "checked", job.error
    assert job.mapping["headers"][0] == "客户姓名"
    assert job.total_rows == 3 and job.bad_rows == 0
    assert job.report["new"] == 3
    assert not Customer.objects.exists()  # a dry run writes nothing


def test_csv_short_and_blank_rows(manager):
    """Rows cut short by the exporting program keep their missing cells empty; rows of blanks and
    spaces are skipped, and the row numbers still match the spreadsheet's."""
    text = "客户姓名,手机号,区,外部编号\n张伟,13812345678,浦东新区,DMS-1\n , ,,\n李娜,13900001111\n王芳\n"
    upload = SimpleUploadedFile("short.csv", text.encode(), content_type="text/csv")
    job = import_job_create(actor=manager, upload=upload, kind="customers")
    assert (job.status, job.total_rows, job.bad_rows) == ("checked", 3, 0), job.report
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "done" and job.created_count == 3
    li, wang = Customer.objects.get(name="李娜"), Customer.objects.get(name="王芳")
    assert (li.mobile, li.district, li.external_id) == ("+8613900001111", "", "")
    assert (wang.mobile, wang.district) == ("", "")


def test_xlsx_with_number_and_date_cells(manager):
    rows = [
        ["姓名", "手机", "生日", "DMS编号"],
        ["张伟", 13812345678, dt.datetime(1990, 5, 1), 1001],  # Excel keeps mobiles and ids as numbers
        [None, None, None, None],  # an empty row is skipped
        ["李娜", "13900001111", "1991年2月3日", 1002],
    ]
    job = import_job_create(actor=manager, upload=xlsx_upload(rows), kind="customers")
    assert job.status == "checked" and job.bad_rows == 0, job.report
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "done" and job.created_count == 2
    zhang = Customer.objects.get(external_id="1001")
    assert zhang.mobile == "+8613812345678" and zhang.birthday == dt.date(1990, 5, 1)
    assert Customer.objects.get(external_id="1002").birthday == dt.date(1991, 2, 3)


def test_unreadable_files_are_refused(manager):
    with pytest.raises(ValidationError) as exc:
        import_job_create(actor=manager, upload=SimpleUploadedFile("x.xls", b"\xd0\xcf"), kind="customers")
    assert "file" in exc.value.fields
    with pytest.raises(ValidationError):
        import_job_create(actor=manager, upload=SimpleUploadedFile("x.xlsx", b"not a zip"), kind="customers")
    with pytest.raises(ValidationError):
        import_job_create(actor=manager, upload=SimpleUploadedFile("x.csv", b""), kind="customers")
    assert not ImportJob.objects.exists()


# --------------------------------------------------------------------------- check and commit


def test_one_bad_row_commits_nothing_and_report_names_row_field_reason(manager):
    job = import_job_create(actor=manager, upload=csv_upload([*GOOD, BAD]), kind="customers")
    assert job.status == "checked" and job.bad_rows == 1 and job.report["valid"] == 3
    found = reasons(job)
    assert set(found) == {(5, "mobile"), (5, "id_number")}  # row 5: the header is row 1
    assert "mobile" in found[(5, "mobile")].lower() and "11 digits" in found[(5, "mobile")]
    with pytest.raises(ValidationError) as exc:
        import_job_commit(actor=manager, job=job)
    assert "mode" in exc.value.fields
    assert not Customer.objects.exists()


def test_reasons_are_in_the_uploaders_language(manager):
    with translation.override("zh-hans"):
        job = import_job_create(actor=manager, upload=csv_upload([BAD]), kind="customers")
        expected = translation.gettext(
            "Enter a valid mainland China mobile number: 11 digits starting with 13 to 19, optionally with +86."
        )
    assert reasons(job)[(2, "mobile")] == expected


def test_commit_without_check_is_still_all_or_nothing(manager):
    job = import_job_create(actor=manager, upload=csv_upload([*GOOD, BAD]), kind="customers", check=False)
    assert job.status == "uploaded"
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "failed" and job.created_count == 0 and job.bad_rows == 1
    assert "nothing was imported" in job.error
    assert not Customer.objects.exists() and not TimelineEvent.objects.exists()
    assert not AuditEvent.objects.filter(action="import").exists()


def test_valid_only_imports_the_rest_with_one_audit_event_and_timeline(manager):
    job = import_job_create(actor=manager, upload=csv_upload([*GOOD, BAD]), kind="customers")
    job = import_job_commit(actor=manager, job=job, mode="valid_only")
    assert job.status == "done" and (job.created_count, job.updated_count, job.bad_rows) == (3, 0, 1)
    assert Customer.objects.count() == 3
    zhang = Customer.objects.get(external_id="DMS-1")
    assert zhang.mobile == "+8613812345678" and zhang.gender == "male" and zhang.name_initials == "zw"
    assert zhang.district == "浦东新区" and zhang.address == "世纪大道100号"
    assert zhang.store_id == manager.store_id
    # Encrypted at rest, findable through the blind index and the pinyin keys.
    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile, id_number, address FROM customers_customer WHERE id = %s", [zhang.pk])
        raw = cursor.fetchone()
    assert all(value.startswith("enc:") for value in raw) and "13812345678" not in "".join(raw)
    scoped = Customer.objects.for_actor(manager)
    assert list(customer_search(scoped, "13812345678")) == [zhang]
    assert list(customer_search(scoped, "1111").values_list("name", flat=True)) == ["李娜"]
    events = AuditEvent.objects.filter(action="import")
    assert events.count() == 1
    assert events.get().extra.items() >= {"created": 3, "updated": 0, "skipped": 1, "kind": "customers"}.items()
    assert TimelineEvent.objects.filter(kind="customer.imported", customer=zhang).exists()


def test_reimport_with_external_id_updates_instead_of_duplicating(manager):
    job = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers")
    import_job_commit(actor=manager, job=job)
    changed = [list(r) for r in GOOD]
    changed[0][8] = "世纪大道200号"  # moved house
    changed[1][1] = ""  # an empty cell leaves the mobile as it is
    changed[2][0], changed[2][1] = "王芳芳", "13700009999"  # a new name and a new mobile
    job = import_job_create(actor=manager, upload=csv_upload(changed), kind="customers")
    assert job.report["updates"] == 3 and job.report["new"] == 0
    job = import_job_commit(actor=manager, job=job)
    assert (job.created_count, job.updated_count) == (0, 3)
    assert Customer.objects.count() == 3
    zhang = Customer.objects.get(external_id="DMS-1")
    assert (zhang.address, zhang.name_initials, zhang.mobile_last4) == ("世纪大道200号", "zw", "5678")
    li = Customer.objects.get(external_id="DMS-2")
    assert (li.mobile, li.mobile_last4, li.district) == ("+8613900001111", "1111", "徐汇区")
    wang = Customer.objects.get(external_id="DMS-3")
    assert (wang.name, wang.name_pinyin, wang.name_initials) == ("王芳芳", "wangfangfang", "wff")
    assert (wang.mobile, wang.mobile_last4) == ("+8613700009999", "9999")
    everyone = Customer.objects.for_actor(manager)
    assert list(customer_search(everyone, "13700009999")) == [wang]  # the blind index follows the new mobile
    assert not list(customer_search(everyone, "13700002222"))
    assert list(customer_search(everyone, "13900001111")) == [li]  # and stays where the mobile stayed
    assert TimelineEvent.objects.filter(kind="customer.import_updated").count() == 3


def test_duplicates_in_the_file_and_in_the_store_are_kept_not_refused(manager):
    """Nothing is refused for being a duplicate (the choices are tested in test_import_duplicates)."""
    zhang = make_customer(manager, name="张伟", mobile="13812345678")
    rows = [
        ["张伟", "13812345678", "", "", "", "", "", "", "", "X-1"],  # the store already has this mobile
        ["孙丽", "13700003333", "", "", "", "", "", "", "", "X-2"],
        ["孙丽", "137 0000 3333", "", "", "", "", "", "", "", "X-3"],  # same mobile as row 3
        ["周杰", "13700004444", "", "", "", "", "", "", "", "X-2"],  # same external id as row 3
    ]
    job = import_job_create(actor=manager, upload=csv_upload(rows), kind="customers")
    assert reasons(job) == {} and job.bad_rows == 0
    assert (job.report["new"], job.report["updates"], job.report["merged"]) == (1, 1, 2)
    assert job.report["counts"] == {"in_file": 2, "existing": 1}
    warned = {(w["row"], w["field"]) for w in job.report["warnings"]}
    assert {(2, "mobile"), (4, "mobile"), (5, "external_id")} <= warned
    job = import_job_commit(actor=manager, job=job)
    assert (job.status, job.created_count, job.updated_count) == ("done", 1, 1)
    zhang.refresh_from_db()
    assert zhang.external_id == "X-1"  # its blank filled
    sun = Customer.objects.get(external_id="X-2")
    assert sun.name == "孙丽" and sun.other_phones == "+8613700004444"  # 周杰's row folded in: its mobile kept
    assert set(sun.external_aliases.values_list("external_id", flat=True)) == {"X-3"}


def test_mapping_can_be_edited_before_checking(manager):
    upload = csv_upload([["张伟", "13812345678"]], header=["联系人", "号码"])
    job = import_job_create(actor=manager, upload=upload, kind="customers")
    assert job.status == "failed" and "name" in job.error.lower()  # nothing maps to the name
    job = importing.import_job_map(actor=manager, job=job, columns={"name": 0, "mobile": 1})
    job = import_job_check(actor=manager, job=job)
    assert job.status == "checked" and job.bad_rows == 0
    with pytest.raises(ValidationError):
        importing.import_job_map(actor=manager, job=job, columns={"name": 0, "mobile": 0})


def test_big_files_run_in_the_worker_with_progress(manager, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(importing, "BACKGROUND_ROWS", 2)
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    staged = []
    real = importing._commit_staged
    monkeypatch.setattr(importing, "_commit_staged", lambda job, actor: staged.append(real(job, actor)) or staged[-1])
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(actor=manager, upload=csv_upload([*GOOD, BAD]), kind="customers")
    job.refresh_from_db()
    assert job.status == "checked" and job.processed_rows == 4 and job.bad_rows == 1
    with django_capture_on_commit_callbacks(execute=True):
        import_job_commit(actor=manager, job=job, mode="valid_only")
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 3 and job.processed_rows == 4
    assert staged == [connection.vendor == "postgresql"]  # the worker committed from the dry run's stage


# --------------------------------------------------------------------------- permissions


def test_who_may_import(demo):
    with pytest.raises(PermissionDenied):
        import_job_create(actor=actor_for("sales_a1"), upload=csv_upload(GOOD), kind="customers")
    advisor = actor_for("advisor_a1")
    job = import_job_create(actor=advisor, upload=csv_upload(GOOD), kind="customers")
    assert import_job_commit(actor=advisor, job=job).status == "done"
    # The manager of another store does not see it.
    with pytest.raises(NotFound):
        import_job_get(actor=actor_for("manager_b"), pk=job.pk)
    assert import_job_get(actor=actor_for("manager_a"), pk=job.pk) == job


# --------------------------------------------------------------------------- vehicles

VIN_CN = "LSJA24U62JG269225"
VIN_BAD_CHECK = "LSJA24U63JG269225"


def test_vehicles_link_owners_by_mobile_and_reject_bad_check_digits(manager):
    owner = make_customer(manager, name="张伟", mobile="13812345678")
    rows = [
        ["车架号", "车牌号", "客户手机", "购车日期", "里程", "保险到期", "外部编号"],
        [VIN_CN, "沪A12345", "138 1234 5678", "2023-05-01", "12000", "2026/05/01", "V-1"],
        [VIN_BAD_CHECK, "沪A54321", "13812345678", "", "", "", "V-2"],
        ["1M8GDM9AXKP042788", "沪AD12345", "13999999999", "", "", "", "V-3"],  # no such customer
    ]
    job = import_job_create(actor=manager, upload=xlsx_upload(rows, name="vehicles.xlsx"), kind="vehicles")
    found = reasons(job)
    assert set(found) == {(3, "vin"), (4, "owner_mobile")}
    assert "check" in found[(3, "vin")].lower()
    job = import_job_commit(actor=manager, job=job, mode="valid_only")
    assert job.status == "done" and job.created_count == 1, job.error
    vehicle = Vehicle.objects.get()
    assert (vehicle.vin, vehicle.plate, vehicle.customer_id) == (VIN_CN, "沪A12345", owner.pk)
    assert vehicle.purchase_date == dt.date(2023, 5, 1) and vehicle.insurance_expiry == dt.date(2026, 5, 1)
    assert vehicle.mileage_km == 12000 and vehicle.organization_id == manager.organization_id
    assert Ownership.objects.get(vehicle=vehicle).customer_id == owner.pk
    assert OdometerReading.objects.get(vehicle=vehicle).km == 12000 and vehicle.mileage_at is not None
    event = TimelineEvent.objects.get(customer=owner, kind="vehicle.added")
    assert (event.summary, event.object_id) == ("沪A12345", str(vehicle.pk))
    decoded = identifiers.vin_decode(VIN_CN)  # maker and model year from the VIN, as entered by hand
    assert (vehicle.maker, vehicle.model_year) == (decoded.maker, max(decoded.model_years))
    assert vehicle.vin_warnings == [] and vehicle.created_at is not None

    # Re-importing the same export updates by external id; a VIN of another store is refused.
    rows[1][4] = "15000"
    job = import_job_create(actor=manager, upload=xlsx_upload(rows[:2], name="v2.xlsx"), kind="vehicles")
    job = import_job_commit(actor=manager, job=job)
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Vehicle.objects.get().mileage_km == 15000
    other = actor_for("manager_b")
    job = import_job_create(actor=other, upload=xlsx_upload([rows[0], rows[1][:2]], name="v3.xlsx"), kind="vehicles")
    assert set(reasons(job)) == {(2, "vin")}


# --------------------------------------------------------------------------- API


def bearer(username):
    _, secret = token_issue_session(user=User.objects.get(username=username))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_api_upload_poll_commit(demo):
    client, auth = Client(), bearer("manager_a")
    r = client.post(
        "/api/v1/customers/imports",
        {"file": csv_upload([*GOOD, BAD]), "kind": "customers", "mode": "all"},
        **auth,
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "checked" and body["bad_rows"] == 1 and body["progress"] == 100
    assert body["bad"][0]["row"] == 5 and {x["field"] for x in body["bad"][0]["reasons"]} == {"mobile", "id_number"}
    job_id = body["id"]
    r = client.post(f"/api/v1/customers/imports/{job_id}/commit", {}, content_type="application/json", **auth)
    assert r.status_code == 400 and "mode" in r.json()["fields"]
    assert not Customer.objects.exists()
    r = client.post(
        f"/api/v1/customers/imports/{job_id}/commit", {"mode": "valid_only"}, content_type="application/json", **auth
    )
    assert r.status_code == 200 and r.json()["status"] == "done" and r.json()["created_count"] == 3
    assert client.get(f"/api/v1/customers/imports/{job_id}", **auth).json()["status"] == "done"
    assert client.get(f"/api/v1/customers/imports/{job_id}", **bearer("manager_b")).status_code == 404
    r = client.post("/api/v1/customers/imports", {"file": csv_upload(GOOD), "kind": "customers"}, **bearer("sales_a1"))
    assert r.status_code == 403


# --------------------------------------------------------------------------- UI


def test_ui_upload_report_commit_and_progress(demo):
    client = Client()
    client.force_login(User.objects.get(username="manager_a"))
    r = client.get("/imports/")
    assert r.status_code == 200 and b"import-upload" in r.content
    r = client.post("/imports/", {"file": csv_upload([*GOOD, BAD]), "kind": "customers"})
    assert r.status_code == 302
    detail = r["Location"]
    page = client.get(detail).content.decode()
    job = ImportJob.objects.get()
    assert 'data-row="5" data-field="mobile"' in page and reasons(job)[(5, "mobile")] in page
    r = client.post(detail, {"action": "commit", "mode": "all"})
    assert not Customer.objects.exists()
    r = client.post(detail, {"action": "commit", "mode": "valid_only"}, follow=True)
    assert 'data-testid="import-result"' in r.content.decode() and Customer.objects.count() == 3
    # A finished job no longer polls: the progress endpoint asks the page to reload.
    r = client.get(detail + "progress/", HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"
    # Sales consultants have no import page; other stores' jobs are 404.
    client.force_login(User.objects.get(username="sales_a1"))
    assert client.get("/imports/").status_code == 403
    client.force_login(User.objects.get(username="manager_b"))
    assert client.get(detail).status_code == 404


def test_ui_export_download(demo):
    make_customer(actor_for("manager_a"), name="张伟", mobile="13812345678")
    client = Client()
    client.force_login(User.objects.get(username="manager_a"))
    r = client.get("/imports/export/customers/", {"format": "csv", "q": "zw"})
    assert r.status_code == 200
    text = b"".join(r.streaming_content).decode()
    assert "张伟" in text and "138****5678" in text
    assert AuditEvent.objects.filter(action="export").count() == 1


def test_uploads_do_not_outlive_the_import(manager, tmp_path, django_capture_on_commit_callbacks):
    """The uploaded file holds personal data in plain text: deleted once imported, and swept
    after a week when the import was never finished."""
    done = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers")
    path = tmp_path / done.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = import_job_commit(actor=manager, job=done)
    assert done.status == "done" and not done.file and not path.exists()
    assert not list(tmp_path.rglob("*.stage*"))  # nor the dry run's prepared rows

    left = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers")
    left_path = tmp_path / left.file.name
    assert importing.import_files_purge() == 0 and left_path.exists()  # fresh uploads stay
    later = timezone.now() + dt.timedelta(days=importing.UPLOAD_RETENTION_DAYS + 1)
    assert importing.import_files_purge(now=later) == 1
    left.refresh_from_db()
    assert not left_path.exists() and left.status == "failed" and not left.file
    assert not list(tmp_path.rglob("*.stage*"))


# --------------------------------------------------------------------------- the dry run's stage
# On PostgreSQL the dry run keeps its prepared rows; the commit re-checks the store and ships them.


def stage_of(job):
    return importing._stage_path(job)


def test_the_commit_writes_the_dry_runs_rows_at_its_own_time(manager):
    job = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers")
    staged = stage_of(job).exists()
    assert staged == (connection.vendor == "postgresql")
    before_commit = timezone.now()
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "done" and job.created_count == 3 and job.report["step"] == "commit"
    zhang = Customer.objects.get(external_id="DMS-1")
    assert zhang.created_at >= before_commit and zhang.updated_at >= before_commit  # not the dry run's time
    event = TimelineEvent.objects.get(kind="customer.imported", customer=zhang)
    assert event.at >= before_commit
    assert zhang.mobile == "+8613812345678" and zhang.is_minor is False and zhang.birthday == dt.date(1949, 12, 31)
    assert list(customer_search(Customer.objects.for_actor(manager), "zw")) == [zhang]


def test_a_customer_added_after_the_dry_run_is_still_caught(manager):
    job = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers")
    assert job.bad_rows == 0 and job.report["counts"]["existing"] == 0
    li = make_customer(manager, name="李娜", mobile="13900001111")  # someone typed her in meanwhile
    job = import_job_commit(actor=manager, job=job)
    # The commit sees her (the dry run's stage is set aside) and fills her blanks instead of
    # creating her twice.
    assert (job.status, job.created_count, job.updated_count) == ("done", 2, 1) and Customer.objects.count() == 3
    li.refresh_from_db()
    assert (li.external_id, li.district) == ("DMS-2", "徐汇区")


def test_changing_the_mapping_sets_the_stage_aside(manager):
    job = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers")
    if connection.vendor != "postgresql":
        pytest.skip("stages are kept on PostgreSQL only")
    columns = dict(job.mapping["columns"])
    columns.pop("address")
    importing.import_job_map(actor=manager, job=job, columns=columns)
    assert not stage_of(job).exists()
    job = import_job_check(actor=manager, job=job)
    assert stage_of(job).exists()
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "done" and Customer.objects.get(external_id="DMS-1").address == ""


def test_a_commit_that_owns_its_transaction_checks_ahead_with_the_same_result(committed_db, monkeypatch):
    """Run as the worker runs it (no outer transaction): on PostgreSQL the next batches are
    checked and prepared in another thread while this one is written. Matches in the store and
    rows of one person across batches of the file behave as in turn."""
    demo_create()
    manager = actor_for("manager_a")
    make_customer(manager, name="张伟", mobile="13812345678", id_number="11010519491231002X")
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)  # several batches from a small file
    spawned = []
    real = importing.readahead.read_ahead
    monkeypatch.setattr(importing.readahead, "read_ahead", lambda items, **kw: spawned.append(kw) or real(items, **kw))
    rows = [
        ["赵一", "13700000001", "", "", "", "", "", "", "", "P-1"],
        ["张伟", "138 1234 5678", "", "", "", "", "", "", "", "P-2"],  # the store has this mobile
        ["钱二", "13700000002", "", "", "", "", "", "", "", "P-3"],
        ["孙三", "13700000003", "", "", "", "", "", "", "", "P-4"],
        ["李四", "13700000001", "", "", "", "", "", "", "", "P-5"],  # row 2's mobile, another batch
        ["周五", "13700000005", "11010519491231002X", "", "", "", "", "", "", "P-6"],  # the store has this ID
        ["吴六", "13700000006", "", "", "", "", "", "", "", "P-7"],
    ]
    before = Customer.objects.count()
    job = import_job_create(actor=manager, upload=csv_upload(rows), kind="customers", check=False)
    job = import_job_commit(actor=manager, job=job)
    assert (job.status, job.bad_rows, job.created_count, job.updated_count) == ("done", 0, 4, 2)
    assert job.report["merged"] == 1 and job.report["counts"] == {"in_file": 1, "existing": 2}
    assert Customer.objects.count() == before + 4
    imported = Customer.objects.filter(external_id__startswith="P-").order_by("external_id")
    assert [c.name for c in imported] == ["赵一", "张伟", "钱二", "孙三", "吴六"]
    zhao, zhang = imported[0], imported[1]
    assert zhao.mobile == "+8613700000001" and zhao.name_initials == "zy"
    assert list(zhao.external_aliases.values_list("external_id", flat=True)) == ["P-5"]  # 李四's row folded in
    assert zhang.other_phones == "+8613700000005"  # 周五's row, by the ID number: blanks filled, mobile kept
    assert list(zhang.external_aliases.values_list("external_id", flat=True)) == ["P-6"]
    assert TimelineEvent.objects.filter(kind="customer.imported", customer__in=imported).count() == 4
    assert list(customer_search(Customer.objects.for_actor(manager), "qe")) == [imported[2]]
    assert len(spawned) == (1 if connection.vendor == "postgresql" else 0)  # one thread per commit
    assert not [t for t in threading.enumerate() if t.name.startswith("autocrm-import")]


# --------------------------------------------------------------------------- queued steps refused


def test_a_queued_step_the_worker_may_not_run_marks_the_job_failed(manager):
    """The worker re-checks the uploader: gone, or no longer allowed to import → the job fails
    with the reason (the page stops waiting); nothing is imported."""
    from autocrm.accounts.auth import bump_user
    from autocrm.accounts.models import Membership
    from autocrm.imports import tasks

    job = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers", check=False)
    before = Customer.objects.count()
    tasks.import_commit_task.call_local(job.pk, 10**9, manager.store_id)  # a user id that does not exist
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "The user who started the import no longer exists.")

    job = import_job_create(actor=manager, upload=csv_upload(GOOD), kind="customers", check=False)
    Membership.objects.filter(user_id=manager.user_id).update(role="sales")  # demoted since the upload
    bump_user(manager.user_id)  # update() bypasses the save signal that drops the cached actor (ADR 0012)
    tasks.import_commit_task.call_local(job.pk, manager.user_id, manager.store_id)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "You do not have permission to do this.")
    assert job.finished_at is not None and Customer.objects.count() == before
