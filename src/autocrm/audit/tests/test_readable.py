"""The audit trail as a store manager reads it: labels, not codes; names, not ids; summaries,
not JSON; Beijing time in values and header; the home feed without routine noise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from uitext import visible_text as extract

from autocrm.accounts.models import User
from autocrm.audit.formatting import Names, event_rows, field_hidden, field_label, model_label, tracked_models
from autocrm.audit.models import AuditEvent
from autocrm.core import audit
from autocrm.core.audit import ACTIONS
from autocrm.core.sensitive import export_logged
from autocrm.customers.merging import customer_merge
from autocrm.customers.models import Customer
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.customers.timeline import TIMELINE_KINDS
from autocrm.imports.importing import import_job_commit, import_job_create
from autocrm.imports.models import ImportJob
from autocrm.vehicles.services import vehicle_create

pytestmark = pytest.mark.django_db
SRC = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")


def read_as(client, username: str, language: str = "zh-hans") -> User:
    User.objects.filter(username=username).update(language=language)
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


def visible_text(html: str) -> str:
    return " ".join(extract(html))


def do_import(manager) -> ImportJob:
    text = "客户姓名,手机号,外部编号\n张三,13812345671,X1\n李四,13812345672,X2\n王五,123,X3\n"
    upload = SimpleUploadedFile("客户.csv", text.encode(), content_type="text/csv")
    with audit.acting_as(manager):
        job = import_job_create(actor=manager, upload=upload, kind="customers", mode="valid_only")
        return import_job_commit(actor=manager, job=job, mode="valid_only", background=False)


def do_merge(manager):
    sales = actor_for("sales_a1")
    survivor = make_customer(sales, name="张伟", mobile="13812349999")
    merged = make_customer(sales, name="张玮", mobile="13812348888")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=merged)
    with audit.acting_as(manager):
        customer_merge(actor=manager, survivor=survivor, merged=merged, choices={"name": "survivor"})
    return survivor, merged


def test_every_action_code_the_code_records_has_a_label():
    pattern = re.compile(r"""record(?:_durable)?\(\s*["']([a-z_.]+)["']""")
    recorded = set()
    for path in SRC.rglob("*.py"):
        if "/tests/" in str(path) or "/migrations/" in str(path):
            continue
        recorded.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert {"create", "update", "import", "customer.merge", "export", "login"} <= recorded
    missing = sorted(code for code in recorded if ACTIONS.get(code) is None)
    assert not missing, f"actions recorded without a label (core.audit.register_action): {missing}"
    with translation.override("zh-hans"):
        untranslated = [a.code for a in ACTIONS.entries() if not CJK.search(str(a.label))]
    assert not untranslated


def test_every_audited_field_has_a_chinese_label_or_is_derived():
    from autocrm.core.fields import BlindIndexField

    missing = []
    with translation.override("zh-hans"):
        for model in tracked_models():
            if model.__module__.startswith("testapp") or not model.audit_enabled:
                continue
            for field in model._meta.concrete_fields:
                if field.name in model.audit_exclude or isinstance(field, BlindIndexField):
                    continue
                if field_hidden(model, field.attname):
                    continue
                if not CJK.search(field_label(model, field.attname)):
                    missing.append(f"{model._meta.label_lower}.{field.attname}")
    assert not missing, f"fields the trail would show in English: {missing}"


def test_many_to_many_tables_are_named_by_their_owner_and_field():
    through = Customer.tags.through
    with translation.override("zh-hans"):
        assert model_label(through) == "客户标签"
    with translation.override("en"):
        assert model_label(through) == "Customer tags"


def test_an_import_reads_as_counts_with_a_link_to_the_job(client, manager):
    job = do_import(manager)
    read_as(client, "manager_a")
    body = client.get(reverse("audit:event_list"), {"action": "import"}).content.decode()
    text = visible_text(body)
    assert "导入" in text and "行数: 3" in text and "新建记录: 2" in text and "错误行: 1" in text
    assert reverse("imports:job_detail", args=[job.pk]) in body
    assert "import" not in text.split() and "{'" not in text

    # The job's own updates: the report summarised, not dumped.
    body = client.get(reverse("audit:event_list"), {"object_type": "imports.importjob"}).content.decode()
    text = visible_text(body)
    assert "'language'" not in text and "{" not in text
    assert "新建记录 2" in text


def test_a_merge_says_who_was_merged_into_whom_with_links(client, manager):
    survivor, merged = do_merge(manager)
    read_as(client, "manager_a")
    response = client.get(reverse("audit:event_list"), {"action": "customer.merge"})
    body = response.content.decode()
    text = visible_text(body)
    assert "合并客户" in text and "customer.merge" not in text
    assert f"被合并的记录: 张玮（记录 {merged.pk}）" in text
    assert f"并入: 张伟（记录 {survivor.pk}）" in text
    assert reverse("customers:customer_detail", args=[survivor.pk]) in body
    assert reverse("customers:customer_detail", args=[merged.pk]) in body
    assert "车辆 1" in text  # what moved, by model name

    read_as(client, "manager_a", "en")
    text = visible_text(client.get(reverse("audit:event_list"), {"action": "customer.merge"}).content.decode())
    assert "Customers merged" in text and f"Merged into: 张伟 (record {survivor.pk})" in text


def test_an_export_says_what_rows_kind_and_filter(client, manager):
    consultant = User.objects.get(username="sales_a1")
    with audit.acting_as(manager):
        export_logged(actor=manager, model=Customer, count=42, filters={"q": "张", "consultant": consultant.pk})
    read_as(client, "manager_a")
    text = visible_text(client.get(reverse("audit:event_list"), {"action": "export"}).content.decode())
    assert "行数: 42" in text and "导出内容: 客户" in text
    assert f"搜索词: 张；销售顾问: {consultant.display_name}" in text


def test_foreign_keys_are_names_resolved_in_bulk(client, manager, django_assert_max_num_queries):
    sales = actor_for("sales_a1")
    do_merge(manager)
    read_as(client, "manager_a")
    with django_assert_max_num_queries(19) as few:
        client.get(reverse("audit:event_list"))
    for i in range(25):  # many more events naming more customers, users and stores: no more queries
        make_customer(sales, name=f"客户{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("audit:event_list"))
    text = visible_text(response.content.decode())
    consultant = User.objects.get(username="sales_a1")
    assert f"销售顾问: — → {consultant.display_name}" in text
    assert "门店: — → 上海浦东比亚迪4S店" in text


def test_names_only_of_records_the_reader_may_see(manager):
    other = make_customer(actor_for("sales_a2"), name="别人的客户")
    mine = make_customer(actor_for("sales_a1"), name="我的客户")
    names = Names(actor_for("sales_a1"), {"customers.customer": {other.pk, mine.pk}})
    assert names.name("customers.customer", mine.pk) == "我的客户"
    assert names.name("customers.customer", other.pk) == f"#{other.pk}"
    assert names.url("customers.customer", other.pk) is None
    store_b = Names(manager, {"tenancy.store": {User.objects.get(username="manager_b").default_store_id}})
    assert "杭州" not in store_b.name("tenancy.store", User.objects.get(username="manager_b").default_store_id)


def test_times_in_beijing_time_in_values_and_header(client, manager):
    job = do_import(manager)
    audit.record(
        "update",
        obj=job,
        actor=manager,
        changes={"finished_at": [None, "2026-12-01 07:56:21.980134+00:00"]},
    )
    event = AuditEvent.objects.filter(action="update", object_id=str(job.pk)).latest("id")
    read_as(client, "manager_a")
    text = visible_text(client.get(reverse("audit:history", args=["imports.importjob", job.pk])).content.decode())
    assert "时间（北京时间）" in text
    assert "完成时间: — → 2026-12-01 15:56:21" in text
    assert "+00:00" not in text
    [row] = event_rows([event], actor=manager)
    assert row["at"] == event.at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def test_the_api_keeps_codes_and_adds_labels(client, manager):
    do_merge(manager)
    from autocrm.accounts.services import token_issue_session

    _token, secret = token_issue_session(user=User.objects.get(username="manager_a"))
    response = client.get(
        "/api/v1/audit-events?action=customer.merge",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["action"] == "customer.merge" and item["action_label"] == "合并客户"
    assert item["object_type"] == "customers.customer" and item["object_type_label"] == "客户"
    assert item["actor"] == "manager_a" and item["actor_name"] == "王建国"
    assert {"label": "并入", "value": item["summary"][1]["value"], "url": item["summary"][1]["url"]} in item["summary"]
    assert item["extra"]["merged"]  # machine fields unchanged
    assert item["at"].endswith("+08:00")


def activity(client, **query):
    """The home page's activity panel — for a consultant it loads after the first paint (its own URL)."""
    response = client.get(reverse("home"), query)
    panel = next(p for p in response.context["panels"] if p["key"] == "activity")
    if "rows" not in panel:  # lazy: the placeholder; fetch the panel itself as the page would
        response = client.get(reverse("home_panel", args=["activity"]), query)
        panel = next(p for p in response.context["panels"] if p["key"] == "activity")
    return panel, response.content.decode()


def test_home_feed_hides_sign_ins_and_denials_unless_asked(client, manager):
    read_as(client, "manager_a")
    make_customer(actor_for("sales_a1"), name="新客户")
    audit.record("authz.denied", actor=manager, store_id=manager.store_id, object_type="customers.customer")
    panel, body = activity(client)
    actions = {r["event"].action for r in panel["rows"]}
    assert "create" in actions and "authz.denied" not in actions
    assert "显示全部" in body
    panel, body = activity(client, activity="all")
    assert "authz.denied" in {r["event"].action for r in panel["rows"]}
    assert "隐藏登录与拒绝访问" in body

    # A consultant's own feed: their sign-ins (recorded as accounts does) are routine too.
    sales = actor_for("sales_a1")
    user = read_as(client, "sales_a1")
    audit.record("login", obj=user, actor=sales, extra={"ip": "127.0.0.1"}, organization_id=user.organization_id)
    panel, _body = activity(client)
    assert panel["scope"] == "own" and "login" not in {r["event"].action for r in panel["rows"]}
    panel, _body = activity(client, activity="all")
    assert "login" in {r["event"].action for r in panel["rows"]}


def test_timeline_badges_are_labels_registered_by_the_apps_that_write_them(client, manager):
    pattern = re.compile(r"""timeline_record\([^)]*?kind=["']([a-z_.]+)["']""", re.S)
    written = set()
    for path in SRC.rglob("*.py"):
        if "/tests/" not in str(path):
            written.update(pattern.findall(path.read_text(encoding="utf-8")))
    assert "vehicle.added" in written
    assert not sorted(k for k in written if TIMELINE_KINDS.get(k) is None)

    customer = make_customer(actor_for("sales_a1"), name="有车的客户")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=customer)
    read_as(client, "manager_a")
    text = visible_text(client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode())
    assert "添加车辆" in text and "vehicle.added" not in text and "customer.created" not in text
    read_as(client, "manager_a", "en")
    text = visible_text(client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode())
    assert "Vehicle added" in text and "vehicle.added" not in text


def test_makers_decoded_from_vins_in_the_readers_language(client, manager):
    from autocrm.core.identifiers import maker_label

    with translation.override("zh-hans"):
        assert maker_label("SAIC MG") == "上汽名爵"
        assert maker_label("Unknown Motors") == "Unknown Motors"
    with translation.override("en"):
        assert maker_label("SAIC MG") == "SAIC MG"
    vehicle = vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=None)
    assert vehicle.maker == "SAIC MG"  # stored as vininfo names it
    read_as(client, "manager_a")
    text = visible_text(client.get(reverse("vehicles:vehicle_detail", args=[vehicle.pk])).content.decode())
    assert "上汽名爵" in text and "SAIC" not in text


def test_the_timeline_api_keeps_kinds_and_adds_their_labels(client, manager):
    from autocrm.accounts.services import token_issue_session

    customer = make_customer(actor_for("sales_a1"), name="有车的客户")
    vehicle_create(actor=manager, data={"vin": "LSJA24U62JG269225", "plate": "沪AD12345"}, customer=customer)
    _token, secret = token_issue_session(user=User.objects.get(username="manager_a"))
    response = client.get(
        f"/api/v1/customers/{customer.pk}/timeline", HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    labels = {item["kind"]: item["kind_label"] for item in response.json()["items"]}
    assert labels["vehicle.added"] == "Vehicle added"
    assert labels["customer.created"] == "Created"
