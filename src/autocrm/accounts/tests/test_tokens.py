"""Integration tokens through the API: created by administrators, scoped, pinned to a store,
expiring, revocable, never readable again, and limited in rate."""

from __future__ import annotations

import datetime as dt
import hashlib
from types import SimpleNamespace

import pytest
from django.utils import timezone
from testapp.models import Ticket

from autocrm.accounts.models import ApiToken, Membership, User
from autocrm.accounts.selectors import actor_build
from autocrm.accounts.services import token_create, token_issue_session, user_create
from autocrm.audit.models import AuditEvent
from autocrm.core import ratelimit
from autocrm.tenancy.models import Organization, Store

URL = "/api/v1/api-tokens"


def bearer(secret, **headers):
    return {"Authorization": f"Bearer {secret}", **headers}


def session_secret(username):
    return token_issue_session(user=User.objects.get(username=username))[1]


def ticket(store, title="t"):
    return Ticket.objects.create(store=store, title=title, mobile="13812345678")


def create_token(client, admin_secret, **body):
    payload = {"user": "dms", "integration_name": "DMS 导出", "name": "dms", "scopes": ["customers:read"], **body}
    return client.post(URL, payload, content_type="application/json", headers=bearer(admin_secret))


def test_admin_creates_an_integration_user_and_token_shown_once(demo, client):
    admin = session_secret("admin")

    resp = create_token(client, admin, expires_in_days=30)

    assert resp.status_code == 201
    body = resp.json()
    secret = body["token"]
    assert body["user"] == "dms" and body["scopes"] == ["customers:read"] and body["store"] is None
    assert body["active"] is True
    integration = User.objects.get(username="dms")
    assert integration.kind == "integration" and integration.display_name == "DMS 导出"
    assert not integration.has_usable_password()
    assert set(Membership.objects.filter(user=integration).values_list("role", flat=True)) == {"manager"}
    assert Membership.objects.filter(user=integration).count() == 2  # every store: the token is not pinned
    token = ApiToken.objects.get(pk=body["id"])
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert AuditEvent.objects.filter(action="token.create", object_id=str(token.pk)).exists()

    listing = client.get(URL, headers=bearer(admin))

    assert listing.status_code == 200
    assert body["id"] in [t["id"] for t in listing.json()["items"]]
    assert secret not in listing.content.decode()
    assert token.key_hash not in listing.content.decode()
    assert all("token" not in t and "key_hash" not in t for t in listing.json()["items"])


def test_a_second_token_for_an_existing_integration_user(demo, client):
    admin = session_secret("admin")
    create_token(client, admin)

    resp = create_token(client, admin, integration_name=None, name="second", scopes=["leads:read", "leads:write"])

    assert resp.status_code == 201
    assert ApiToken.objects.filter(user__username="dms").count() == 2


def test_a_staff_user_or_unknown_user_is_refused_without_creating_anything(demo, client):
    admin = session_secret("admin")

    staff = create_token(client, admin, user="sales_a1", integration_name=None)
    unknown = create_token(client, admin, user="nobody", integration_name=None)

    assert staff.status_code == unknown.status_code == 400
    assert "user" in staff.json()["fields"] and "user" in unknown.json()["fields"]
    assert not ApiToken.objects.exclude(name="session").exists()


def test_bad_fields_are_named_and_nothing_is_written(demo, client):
    admin = session_secret("admin")

    resp = create_token(client, admin, scopes=["customers:fly"], expires_in_days=0)

    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) >= {"scopes", "expires_in_days"}
    assert not User.objects.filter(username="dms").exists()
    assert not ApiToken.objects.exclude(name="session").exists()


def test_store_of_another_organization_is_refused(demo, client):
    other = Organization.objects.create(code="other", name="Other")
    foreign = Store.objects.create(organization=other, code="x", name="X", brand="X", city="X")

    resp = create_token(client, session_secret("admin"), store=foreign.pk)

    assert resp.status_code == 400
    assert "store" in resp.json()["fields"]
    assert not User.objects.filter(username="dms").exists()


def test_non_administrators_get_403(demo, client):
    admin = session_secret("admin")
    created = create_token(client, admin).json()

    for username in ("manager_a", "director", "sales_a1"):
        secret = session_secret(username)
        assert create_token(client, secret, user=f"dms-{username}").status_code == 403
        assert client.get(URL, headers=bearer(secret)).status_code == 403
        assert client.delete(f"{URL}/{created['id']}", headers=bearer(secret)).status_code == 403
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is None


def test_a_user_may_revoke_their_own_session_token(demo, client):
    secret = session_secret("sales_a1")
    own = ApiToken.objects.get(key_hash=hashlib.sha256(secret.encode()).hexdigest())

    assert client.delete(f"{URL}/{own.pk}", headers=bearer(secret)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_tokens_of_another_organization_are_404(demo, client):
    other = Organization.objects.create(code="other", name="Other")
    Store.objects.create(organization=other, code="x", name="X", brand="X", city="X")
    stranger = user_create(organization_id=other.pk, username="stranger", password=None)
    foreign, _secret = token_issue_session(user=stranger)
    admin = session_secret("admin")

    resp = client.delete(f"{URL}/{foreign.pk}", headers=bearer(admin))
    missing = client.delete(f"{URL}/987654321", headers=bearer(admin))

    assert resp.status_code == 404
    assert resp.content == missing.content
    assert foreign.pk not in [t["id"] for t in client.get(URL, headers=bearer(admin)).json()["items"]]
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_revoked_token_is_401(demo, client):
    admin = session_secret("admin")
    created = create_token(client, admin).json()
    store_a = demo["stores"]["a"]
    t = ticket(store_a)
    assert client.get(f"/api/v1/testapp/tickets/{t.pk}", headers=bearer(created["token"])).status_code == 200

    assert client.delete(f"{URL}/{created['id']}", headers=bearer(admin)).status_code == 204

    resp = client.get(f"/api/v1/testapp/tickets/{t.pk}", headers=bearer(created["token"]))
    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthenticated"
    assert client.get(URL, headers=bearer(admin)).json()["items"][0]["active"] is False


def test_expired_token_is_401(demo, client):
    secret = session_secret("sales_a1")
    ApiToken.objects.filter(key_hash=hashlib.sha256(secret.encode()).hexdigest()).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    resp = client.get("/api/v1/me", headers=bearer(secret))

    assert resp.status_code == 401
    assert resp.json()["code"] == "unauthenticated"


def test_scope_decides_what_an_integration_token_reaches(demo, client):
    admin = session_secret("admin")
    with_scope = create_token(client, admin).json()["token"]
    without_scope = create_token(client, admin, integration_name=None, name="leads", scopes=["leads:read"]).json()[
        "token"
    ]
    t = ticket(demo["stores"]["a"], "in store a")

    allowed = client.get(f"/api/v1/testapp/tickets/{t.pk}", headers=bearer(with_scope))
    hidden = client.get(f"/api/v1/testapp/tickets/{t.pk}", headers=bearer(without_scope))
    missing = client.get("/api/v1/testapp/tickets/987654321", headers=bearer(without_scope))

    assert allowed.status_code == 200
    assert allowed.json()["title"] == "in store a"
    assert allowed.json()["mobile"] == "138****5678"
    assert hidden.status_code == 404
    assert hidden.content == missing.content
    me = client.get("/api/v1/me", headers=bearer(without_scope)).json()
    assert me["scopes"] == ["leads:read"]
    assert "testapp.ticket" not in me["permissions"]


def test_token_pinned_to_a_store_cannot_reach_another_even_with_x_store(demo, client):
    admin = session_secret("admin")
    store_a, store_b = demo["stores"]["a"], demo["stores"]["b"]
    pinned = create_token(client, admin, store=store_a.pk).json()
    free = create_token(client, admin, user="dms-all", name="all stores").json()
    in_a, in_b = ticket(store_a, "a"), ticket(store_b, "b")
    to_b = {"X-Store": str(store_b.pk)}

    assert pinned["store"] == store_a.pk
    assert client.get(f"/api/v1/testapp/tickets/{in_a.pk}", headers=bearer(pinned["token"])).status_code == 200
    blocked = client.get(f"/api/v1/testapp/tickets/{in_b.pk}", headers=bearer(pinned["token"], **to_b))
    missing = client.get("/api/v1/testapp/tickets/987654321", headers=bearer(pinned["token"], **to_b))
    assert blocked.status_code == 404
    assert blocked.content == missing.content
    me = client.get("/api/v1/me", headers=bearer(pinned["token"], **to_b)).json()
    assert [s["code"] for s in me["stores"]] == ["a"] and me["store"]["code"] == "a"
    # An unpinned token of the same kind switches store with X-Store.
    assert client.get(f"/api/v1/testapp/tickets/{in_b.pk}", headers=bearer(free["token"], **to_b)).status_code == 200


def test_token_create_service_directly_refuses_non_admin(demo):
    from autocrm.core.errors import PermissionDenied

    manager = actor_build(user=User.objects.get(username="manager_a"))
    with pytest.raises(PermissionDenied):
        token_create(actor=manager, user=manager.user, name="x", scopes=["customers:read"])


def test_each_token_is_rate_limited_with_retry_after(demo, client, settings, monkeypatch):
    settings.AUTOCRM_API_RATE_TOKEN = "2/min"
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_000_000.0))  # 40 s into a minute
    secret, other = session_secret("sales_a1"), session_secret("sales_a2")

    codes = [client.get("/api/v1/me", headers=bearer(secret)).status_code for _ in range(3)]
    limited = client.get("/api/v1/me", headers=bearer(secret))

    assert codes == [200, 200, 429]
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert limited["Retry-After"] == "20"
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200  # counted per token
