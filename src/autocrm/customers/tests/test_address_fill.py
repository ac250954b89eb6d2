"""A customer's address typed as one string fills the blank province / city / district on entry
and on import; an unknown or misplaced district is a warning, never an error."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from autocrm.customers.models import Customer
from autocrm.customers.services import customer_clean_checked, customer_create, customer_update
from autocrm.imports.importing import import_job_commit, import_job_create

from .factories import actor_for, unique_mobile


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def manager(demo):
    return actor_for("manager_a")  # store a: 上海市


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_clean_fills_blank_divisions_from_one_string():
    cleaned, warnings = customer_clean_checked({"name": "刘萍", "address": "成都锦江区人民路208号阳光花园3栋501室"})
    assert warnings == []
    assert (cleaned["province"], cleaned["city"], cleaned["district"]) == ("四川省", "成都市", "锦江区")
    assert cleaned["address"] == "人民路208号阳光花园3栋501室"
    assert cleaned["community"] == "阳光花园"


def test_clean_keeps_written_divisions_and_checks_them():
    data = {"name": "刘萍", "province": "上海市", "city": "上海市", "district": "浦东新区", "address": "张杨路1200号"}
    cleaned, warnings = customer_clean_checked(data)
    assert warnings == [] and cleaned["address"] == "张杨路1200号" and cleaned["district"] == "浦东新区"
    cleaned, warnings = customer_clean_checked({**data, "district": "锦江区"})
    assert warnings == [("district", "The district 锦江区 is not in 上海市.")]
    assert cleaned["district"] == "锦江区"  # kept as written: a warning, not a correction
    _cleaned, warnings = customer_clean_checked({"name": "刘萍", "district": "火星区"})
    assert warnings == [("district", "The district 火星区 is not known.")]


def test_clean_unknown_district_in_one_string_fills_nothing():
    cleaned, warnings = customer_clean_checked({"name": "刘萍", "address": "火星区人民路1号"})
    assert warnings == [("address", "The district 火星区 is not known.")]
    assert "district" not in cleaned and cleaned["address"] == "火星区人民路1号"


def test_clean_street_alone_is_left_as_typed():
    cleaned, warnings = customer_clean_checked({"name": "刘萍", "address": "人民路208号"}, default_city="上海市")
    assert warnings == [] and "city" not in cleaned and cleaned["address"] == "人民路208号"


def test_create_fills_divisions_with_the_stores_city(manager):
    c = customer_create(actor=manager, data={"name": "王芳", "mobile": unique_mobile(), "address": "浦东张杨路1200号"})
    c.refresh_from_db()
    assert (c.province, c.city, c.district, c.address) == ("上海市", "上海市", "浦东新区", "张杨路1200号")
    # 朝阳区 is Beijing's and Changchun's: the store (上海) decides nothing, so nothing is filled
    c = customer_create(actor=manager, data={"name": "李娜", "mobile": unique_mobile(), "address": "朝阳区建国路88号"})
    c.refresh_from_db()
    assert (c.city, c.district, c.address) == ("", "", "朝阳区建国路88号")


def test_create_traditional_characters(manager):
    c = customer_create(
        actor=manager, data={"name": "劉萍", "mobile": unique_mobile(), "address": "四川省成都市錦江區人民路208號"}
    )
    c.refresh_from_db()
    assert (c.province, c.city, c.district, c.address) == ("四川省", "成都市", "锦江区", "人民路208号")


def test_update_of_the_address_keeps_the_records_divisions(manager):
    c = customer_create(
        actor=manager,
        data={"name": "赵强", "mobile": unique_mobile(), "province": "上海市", "city": "上海市", "district": "徐汇区"},
    )
    customer_update(actor=manager, customer=c, data={"address": "成都锦江区人民路208号"})
    c.refresh_from_db()
    assert (c.city, c.district, c.address) == ("上海市", "徐汇区", "成都锦江区人民路208号")
    blank = customer_create(actor=manager, data={"name": "钱七", "mobile": unique_mobile()})
    customer_update(actor=manager, customer=blank, data={"address": "徐汇区漕溪北路1号"})
    blank.refresh_from_db()
    assert (blank.city, blank.district, blank.address) == ("上海市", "徐汇区", "漕溪北路1号")


def test_import_fills_divisions_and_reports_warnings(manager):
    mobiles = [unique_mobile() for _ in range(4)]
    text = (
        "客户姓名,手机号,省,市,区,详细地址\n"
        f"张伟,{mobiles[0]},,,,成都锦江区人民路208号\n"
        f"李娜,{mobiles[1]},,,,锦江区人民路208号3栋2单元501\n"
        f"王芳,{mobiles[2]},,,,火星区人民路1号\n"
        f"赵强,{mobiles[3]},上海市,上海,锦江区,人民路1号\n"
    )
    upload = SimpleUploadedFile("customers.csv", text.encode(), content_type="text/csv")
    job = import_job_create(actor=manager, upload=upload, kind="customers")
    assert (job.status, job.bad_rows) == ("checked", 0), job.report
    warnings = {(w["row"], w["field"]): w["message"] for w in job.report["warnings"]}
    assert warnings == {
        (4, "address"): "The district 火星区 is not known.",
        (5, "district"): "The district 锦江区 is not in 上海市.",
    }
    job = import_job_commit(actor=manager, job=job)
    assert job.status == "done" and job.created_count == 4
    zhang, li, wang = (Customer.objects.get(name=n) for n in ("张伟", "李娜", "王芳"))
    assert (zhang.province, zhang.city, zhang.district, zhang.address) == ("四川省", "成都市", "锦江区", "人民路208号")
    assert (li.city, li.district, li.address) == ("成都市", "锦江区", "人民路208号3栋2单元501")
    assert (wang.district, wang.address) == ("", "火星区人民路1号")


# --- the entry page shows the doubts before saving; the user may save past them ------------------


def _login(client, username):
    from autocrm.accounts.models import User

    client.force_login(User.objects.get(username=username))
    return client


def test_create_page_shows_an_unknown_district_and_saves_only_when_confirmed(client, demo):
    from django.urls import reverse

    _login(client, "sales_a1")
    url = reverse("customers:customer_create")
    data = {"kind": "person", "name": "陈静", "mobile": unique_mobile(), "address": "火星区人民路1号"}
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200 and 'id="address-doubts"' in body
    ((field, message),) = response.context["address_doubts"]  # in the user's language (zh-hans here)
    assert field == "address" and "火星区" in message and message in body
    assert not Customer.objects.filter(name="陈静").exists()  # not silently accepted
    key = response.context["address_key"]
    assert 'data-testid="confirm-address"' in body and f'value="{key}"' in body
    # Changed since the warning: checked again (a plate is not an address either).
    response = client.post(url, {**data, "address": "川A12345", "confirm_address": key})
    assert any("川A12345" in m for _f, m in response.context["address_doubts"])
    assert not Customer.objects.filter(name="陈静").exists()
    # Confirmed as typed: saved, the address kept as written, nothing invented.
    response = client.post(url, {**data, "confirm_address": key})
    assert response.status_code == 302
    saved = Customer.objects.get(name="陈静")
    assert (saved.district, saved.address) == ("", "火星区人民路1号")


def test_create_page_with_a_known_address_saves_at_once(client, demo):
    from django.urls import reverse

    _login(client, "sales_a1")
    response = client.post(reverse("customers:customer_create"), {
        "kind": "person", "name": "陈静", "mobile": unique_mobile(), "address": "浦东张杨路1200号"})  # fmt: skip
    assert response.status_code == 302
    assert Customer.objects.get(name="陈静").district == "浦东新区"


def test_edit_page_warns_on_a_changed_address_only(client, demo):
    from django.urls import reverse

    sales = actor_for("sales_a1")
    customer = customer_create(
        actor=sales, data={"name": "陈静", "mobile": unique_mobile(), "address": "火星区人民路1号"}
    )
    _login(client, "sales_a1")
    url = reverse("customers:customer_edit", args=[customer.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("mobile", "id_number")}
    data.update(kind="person", name="陈静")
    # The address as it was: no doubt raised again on every save.
    response = client.post(url, {**data, "occupation": "教师"})
    assert response.status_code == 302, response.context["form"].errors
    # A new doubtful district: shown on its field and above the form, nothing saved.
    response = client.post(url, {**data, "district": "火星区", "address": "人民路2号"})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="address-doubts"' in body
    assert response.context["form"].errors["district"]
    customer.refresh_from_db()
    assert customer.address == "火星区人民路1号"
    response = client.post(
        url, {**data, "district": "火星区", "address": "人民路2号", "confirm_address": response.context["address_key"]}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.district, customer.address) == ("火星区", "人民路2号")
