"""Every error under /api/ answers in the JSON error shape ``{code, message, fields}`` — also the
ones that bypass the API's own handlers: a path no route knows, a method a route does not take,
an unhandled exception (500). Pages keep their HTML error pages."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session


def bearer(username):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue_session(user=User.objects.get(username=username))[1]}"}


def assert_shape(resp, status, code):
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code and body["message"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/customers/abc/def", "/api/v2/customers", "/api/"])
def test_unknown_api_path_is_a_json_404(demo, client, path):
    assert_shape(client.get(path, **bearer("manager_a")), 404, "not_found")


def test_unknown_api_path_is_a_json_404_without_a_token_too(demo, client):
    assert_shape(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_method_not_allowed_is_a_json_405_keeping_allow(demo, client):
    resp = client.put("/api/v1/customers", {}, content_type="application/json", **bearer("manager_a"))
    assert_shape(resp, 405, "method_not_allowed")
    assert "GET" in resp["Allow"] and "POST" in resp["Allow"]


def test_unhandled_exception_is_a_json_500(demo, monkeypatch):
    from autocrm.customers import selectors

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "customer_page", broken)
    client = Client(raise_request_exception=False)
    body = assert_shape(client.get("/api/v1/customers", **bearer("manager_a")), 500, "server_error")
    assert "boom" not in body["message"]


def test_pages_keep_html_error_pages(demo, client):
    resp = client.get("/no-such-page/")
    assert resp.status_code == 404 and resp["Content-Type"].startswith("text/html")


def test_openapi_declares_the_error_statuses_and_enums(client):
    """What schemathesis checks in ``make test``, in brief: every operation documents the errors
    it answers (400 always; 401/403/429 behind a token; 404 for a record in the path or a write;
    409 for a write), each in the error shape, and choice fields are enums."""
    doc = client.get("/api/v1/openapi.json").json()
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            assert "400" in declared, (method, path)
            if operation.get("security"):
                assert {"401", "403", "429"} <= declared, (method, path)
                if method in ("post", "patch", "put", "delete"):
                    assert {"404", "409"} <= declared, (method, path)
            if "{" in path:
                assert "404" in declared, (method, path)
            ref = operation["responses"]["400"]["content"]["application/json"]["schema"]
            assert ref == {"$ref": "#/components/schemas/ErrorOut"}
    schemas = doc["components"]["schemas"]
    assert schemas["CustomerIn"]["properties"]["kind"]["enum"] == ["person", "company"]
    gender = schemas["CustomerOut"]["properties"]["gender"]["anyOf"][0]
    assert set(gender["enum"]) == {"", "male", "female"}
    assert "electric" in schemas["VehicleOut"]["properties"]["fuel_type"]["enum"]
