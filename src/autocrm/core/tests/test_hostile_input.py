"""Hostile text in any part of a request — a NUL byte or a lone surrogate — is a 400 naming the
field at one point (``InputCheckMiddleware``), in the API's error shape under /api/: never a 500
(PostgreSQL refuses NUL in text and in query parameters; a surrogate cannot be encoded)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.customers.models import Customer

NUL = "\x00"
SURROGATE = "\ud800"


def bearer(username):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue_session(user=User.objects.get(username=username))[1]}"}


def assert_api_400(resp, field):
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert set(body) == {"code", "message", "fields"} and body["code"] == "invalid"
    assert list(body["fields"]) == [field]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_json_body_with_nul_or_surrogate_is_a_400_naming_the_field(demo, client, bad):
    before = Customer.objects.count()
    resp = client.post(
        "/api/v1/customers",
        {"name": f"张{bad}伟", "mobile": "13812345678"},
        content_type="application/json",
        **bearer("manager_a"),
    )
    assert_api_400(resp, "name")
    assert Customer.objects.count() == before


def test_nested_json_value_is_named_by_its_path(demo, client):
    resp = client.post(
        "/api/v1/customers", {"name": "张伟", "tags": ["ok", f"x{NUL}"]}, content_type="application/json",
        **bearer("manager_a"),
    )  # fmt: skip
    assert_api_400(resp, "tags.1")


def test_unauthenticated_token_endpoint_refuses_nul_username(demo, client):
    resp = client.post(
        "/api/v1/auth/token", {"username": f"admin{NUL}", "password": "x"}, content_type="application/json"
    )
    assert_api_400(resp, "username")


def test_escaped_backslash_is_not_mistaken_for_a_nul(demo, client):
    resp = client.post(
        "/api/v1/customers", '{"name": "张\\\\u0000伟"}', content_type="application/json", **bearer("manager_a")
    )
    assert resp.status_code == 201, resp.content
    assert resp.json()["name"] == "张\\u0000伟"


@pytest.mark.parametrize(
    "url", ["/api/v1/customers", "/api/v1/vehicles", "/api/v1/audit-events", "/api/v1/customers/duplicates"]
)
def test_query_parameter_with_nul_is_a_400_in_the_api(demo, client, url):
    assert_api_400(client.get(url, {"q": f"张{NUL}"}, **bearer("manager_a")), "q")


def test_header_with_nul_is_a_400(demo, client):
    assert_api_400(client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer x{NUL}y"), "authorization")
    resp = client.get(reverse("accounts:login"), HTTP_COOKIE=f"sessionid=a{NUL}b")
    assert resp.status_code == 400


def test_login_form_with_nul_username_is_a_400_page(demo, client):
    resp = client.post(reverse("accounts:login"), {"username": f"admin{NUL}", "password": "x"})
    assert resp.status_code == 400
    assert "username" in resp.content.decode()
    assert not AuditEvent.objects.filter(action__startswith="auth.").exists()


@pytest.mark.parametrize("url_name", ["customers:customer_list", "vehicles:vehicle_list", "audit:event_list"])
def test_query_parameter_with_nul_is_a_400_page(demo, client, url_name):
    client.force_login(User.objects.get(username="manager_a"))
    resp = client.get(reverse(url_name), {"q": f"张{NUL}"})
    assert resp.status_code == 400
    assert resp["Content-Type"].startswith("text/html")


def test_form_field_with_nul_changes_nothing(demo, client):
    client.force_login(User.objects.get(username="manager_a"))
    before = Customer.objects.count()
    resp = client.post(reverse("customers:customer_create"), {"kind": "person", "name": f"张{NUL}伟"})
    assert resp.status_code == 400
    assert Customer.objects.count() == before


def test_uploaded_file_name_never_keeps_a_nul(demo, client):
    upload = SimpleUploadedFile(f"a{NUL}.csv", "姓名,手机\n张伟,13812345678\n".encode(), content_type="text/csv")
    resp = client.post("/api/v1/customers/imports", {"kind": "customers", "file": upload}, **bearer("manager_a"))
    if resp.status_code == 400:  # refused by the check
        assert_api_400(resp, "file")
    else:  # or Django's upload parser already dropped it from the name
        assert resp.status_code == 201, resp.content
        assert NUL not in resp.json()["original_name"]


def test_clean_requests_pass(demo, client):
    resp = client.get("/api/v1/customers", {"q": "张"}, **bearer("manager_a"))
    assert resp.status_code == 200


# --- crafted keyset cursors ----------------------------------------------------------------------

CRAFTED_CURSORS = [
    "WyJ7XCJkZWNcIjogXCIxZTk5OTk5OVwifSJd",  # base64 of a decimal 1e999999 (the ~30 s stall)
    "W3siZGVjIjoiMWU5OTk5OTkifV0",
    "W3siZGVjIjoiSW5maW5pdHkifV0",
    "W3siZGVjIjoiTmFOIn1d",
    "WzEwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDBd",
    "W251bGxd",
    "!!!not base64",
    "x" * 5000,
]


@pytest.mark.parametrize("cursor", CRAFTED_CURSORS)
@pytest.mark.parametrize(
    "url",
    ["/api/v1/customers", "/api/v1/vehicles", "/api/v1/audit-events", "/api/v1/customers/duplicates", "/api/v1/stores"],
)
def test_crafted_cursor_is_a_400_in_the_api(demo, client, url, cursor):
    assert_api_400(client.get(url, {"cursor": cursor}, **bearer("director")), "cursor")


@pytest.mark.parametrize("cursor", CRAFTED_CURSORS[:3])
@pytest.mark.parametrize(
    "url_name", ["customers:customer_list", "vehicles:vehicle_list", "audit:event_list", "duplicates:duplicate_list"]
)
def test_crafted_cursor_is_a_400_page(demo, client, url_name, cursor):
    client.force_login(User.objects.get(username="manager_a"))
    assert client.get(reverse(url_name), {"cursor": cursor}).status_code == 400


def test_crafted_cursor_on_the_quality_list_is_a_400_page_not_a_500(demo, client):
    client.force_login(User.objects.get(username="manager_a"))
    resp = client.get(reverse("quality:quality_problem", args=["missing_mobile"]), {"cursor": CRAFTED_CURSORS[1]})
    assert resp.status_code == 400


# --- NUL inside uploaded files: a row error in the import's report ------------------------------


def _import(client, kind, text):
    upload = SimpleUploadedFile(f"{kind}.csv", text.encode(), content_type="text/csv")
    resp = client.post("/api/v1/customers/imports", {"kind": kind, "file": upload}, **bearer("manager_a"))
    assert resp.status_code == 201, resp.content
    return resp.json()


def test_csv_cells_with_nul_are_row_errors(demo, client):
    job = _import(
        client,
        "customers",
        "姓名,手机,外部编号\n张\x00伟,13812345678,A1\n李娜,13912345678,A\x002\n王强,13712345678,A3\n",
    )
    assert job["status"] == "checked" and not job["error"]
    bad = {row["row"]: [reason["field"] for reason in row["reasons"]] for row in job["bad"]}
    assert bad == {2: ["name"], 3: ["external_id"]}


def test_vehicle_csv_cells_with_nul_are_row_errors(demo, client):
    job = _import(
        client, "vehicles", "VIN,车牌,颜色\nLSJA24U62JG269225,沪AD12345,白\x00色\n1M8GDM9AXKP042788,沪B12345,黑色\n"
    )
    assert job["status"] == "checked" and not job["error"]
    assert [(row["row"], [r["field"] for r in row["reasons"]]) for row in job["bad"]] == [(2, ["colour"])]


# --- numbers too big for the database -----------------------------------------------------------

BIG = "9" * 30


@pytest.mark.parametrize("url", [f"/api/v1/customers?consultant={BIG}", f"/api/v1/vehicles?customer={BIG}"])
def test_huge_number_in_a_filter_is_a_400_in_the_api(demo, url):
    client = Client(raise_request_exception=False)
    resp = client.get(url, **bearer("director"))
    assert resp.status_code in (200, 400), resp.content  # PostgreSQL finds nothing, SQLite refuses
    if resp.status_code == 400:
        assert resp.json()["code"] == "invalid"


def test_huge_number_in_a_page_filter_is_not_a_500(demo):
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="manager_a"))
    resp = client.get(reverse("quality:quality_problem", args=["missing_mobile"]), {"store": BIG})
    assert resp.status_code in (200, 400)
