"""The error contract of API.md: one shape, 400 (never 422) for bad input, the request's
language, 404 that hides other stores' records, 403 that is audited, 429 with Retry-After."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.accounts.selectors import actor_build
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core import ratelimit
from autocrm.core.errors import NotFound, PermissionDenied, RateLimited
from autocrm.core.permissions import get_in_scope

TOKEN_URL = "/api/v1/auth/token"
INVALID_EN = "The request is not valid."


def bearer(username, **headers):
    secret = token_issue_session(user=User.objects.get(username=username))[1]
    return {"Authorization": f"Bearer {secret}", **headers}


def zh(msgid):
    with translation.override("zh-hans"):
        return gettext(msgid)


def test_validation_errors_are_400_with_fields_named(demo, client):
    resp = client.post(TOKEN_URL, {"password": "x"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")

    assert resp.status_code == 400
    body = resp.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "invalid"
    assert body["message"] == INVALID_EN
    assert list(body["fields"]) == ["username"]
    assert all(isinstance(m, str) and m for m in body["fields"]["username"])


def test_malformed_json_is_400_too(demo, client):
    resp = client.post(TOKEN_URL, "{not json", content_type="application/json")

    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid"


def test_message_follows_the_request_language(demo, client):
    english = client.post(TOKEN_URL, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en").json()
    default = client.post(TOKEN_URL, {}, content_type="application/json").json()

    assert english["message"] == INVALID_EN
    assert set(default) == {"code", "message", "fields"} and default["code"] == "invalid"
    assert set(default["fields"]) == set(english["fields"]) == {"username", "password"}
    if zh(INVALID_EN) != INVALID_EN:  # the Chinese catalogue has the string
        assert default["message"] == zh(INVALID_EN)
    else:
        assert default["message"]


def test_unauthenticated_shape(demo, client):
    resp = client.get("/api/v1/me")

    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthenticated"
    assert resp.json()["fields"] == {}


def test_out_of_scope_record_is_byte_identical_to_a_missing_one(demo, client):
    theirs = Ticket.objects.create(store=demo["stores"]["b"], title="b", owner=User.objects.get(username="sales_b1"))
    colleague = Ticket.objects.create(
        store=demo["stores"]["a"], title="a2", owner=User.objects.get(username="sales_a2")
    )
    headers = bearer("sales_a1")

    other_store = client.get(f"/api/v1/testapp/tickets/{theirs.pk}", headers=headers)
    other_owner = client.get(f"/api/v1/testapp/tickets/{colleague.pk}", headers=headers)
    missing = client.get("/api/v1/testapp/tickets/987654321", headers=headers)

    assert other_store.status_code == other_owner.status_code == missing.status_code == 404
    assert other_store.content == other_owner.content == missing.content
    assert missing.json()["code"] == "not_found"


def test_in_scope_but_not_allowed_is_403_and_audited(demo):
    sales = actor_build(user=User.objects.get(username="sales_a1"))
    own = Ticket.objects.create(store=demo["stores"]["a"], title="mine", owner=sales.user)
    other = Ticket.objects.create(store=demo["stores"]["b"], title="theirs")

    assert get_in_scope(Ticket, sales, own.pk, "change") == own
    with pytest.raises(PermissionDenied):
        get_in_scope(Ticket, sales, own.pk, "delete")
    with pytest.raises(NotFound):
        get_in_scope(Ticket, sales, other.pk, "delete")

    denied = AuditEvent.objects.filter(action="authz.denied")
    assert [(e.object_id, e.extra["attempted"], e.actor_label) for e in denied] == [(str(own.pk), "delete", "sales_a1")]


def test_list_without_the_right_is_403_with_the_shape(demo, client):
    resp = client.get("/api/v1/audit-events", headers=bearer("advisor_a1", **{"Accept-Language": "en"}))

    assert resp.status_code == 403
    assert resp.json() == {"code": "forbidden", "message": "You do not have permission to do this.", "fields": {}}


def test_token_endpoint_is_rate_limited_per_ip(demo, client, settings, monkeypatch):
    settings.AUTOCRM_API_RATE_AUTH = "3/min"
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_000_000.0))  # 40 s into a minute
    body = {"username": "sales_a1", "password": "autocrm-demo"}

    codes = [client.post(TOKEN_URL, body, content_type="application/json").status_code for _ in range(4)]
    limited = client.post(TOKEN_URL, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    elsewhere = client.post(TOKEN_URL, body, content_type="application/json", REMOTE_ADDR="10.1.2.3")

    assert codes == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert limited["Retry-After"] == "20"
    assert limited.json() == {"code": "rate_limited", "message": "Too many requests. Try again later.", "fields": {}}
    assert elsewhere.status_code == 200


def test_rate_window_resets():
    cache.clear()
    ratelimit.hit("k", limit=2, window=60, now=120.0)
    ratelimit.hit("k", limit=2, window=60, now=150.0)
    with pytest.raises(RateLimited) as caught:
        ratelimit.hit("k", limit=2, window=60, now=179.5)
    assert caught.value.retry_after == 1

    assert ratelimit.hit("k", limit=2, window=60, now=180.0) == 1


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("600/min", (600, 60)), ("20/m", (20, 60)), ("5/10s", (5, 10)), ("100/h", (100, 3600)), ("0/d", (0, 86400))],
)
def test_parse_rate(rate, expected):
    assert ratelimit.parse_rate(rate) == expected


def test_parse_rate_refuses_nonsense():
    with pytest.raises(ValueError):
        ratelimit.parse_rate("10/fortnight")
