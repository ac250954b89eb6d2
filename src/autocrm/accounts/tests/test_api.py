"""The sign-in and /me endpoints of the API, as a client program sees them."""

from __future__ import annotations

import hashlib

import pyotp
from django.db import connection

from autocrm.accounts.models import ApiToken, LoginAttempt, User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent

TOKEN_URL = "/api/v1/auth/token"
PASSWORD = "autocrm-demo"


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(
        TOKEN_URL, {"username": username, "password": password, **extra}, content_type="application/json"
    )


def bearer(secret, **headers):
    return {"Authorization": f"Bearer {secret}", **headers}


def session_secret(username):
    return token_issue_session(user=User.objects.get(username=username))[1]


def test_token_is_returned_once_and_stored_only_as_its_hash(demo, client):
    resp = sign_in(client, "sales_a1")

    assert resp.status_code == 200
    body = resp.json()
    secret = body["token"]
    assert secret.startswith("acrm_") and len(secret) > 30
    assert body["expires_at"].endswith("+08:00")
    token = ApiToken.objects.get(user__username="sales_a1")
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert rows
    assert not any(secret in str(value) for row in rows for value in row)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_wrong_password_is_401_with_the_error_shape(demo, client):
    resp = sign_in(client, "sales_a1", "wrong-password", HTTP_ACCEPT_LANGUAGE="en")

    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == "unauthenticated"
    assert isinstance(body["message"], str) and body["message"]
    assert body["fields"] == {}
    assert not ApiToken.objects.exists()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(demo, client):
    wrong = sign_in(client, "sales_a1", "wrong-password")
    unknown = sign_in(client, "nobody-here", "wrong-password")

    assert (unknown.status_code, unknown.content) == (wrong.status_code, wrong.content)


def test_lock_out_answers_429_with_retry_after_even_for_the_right_password(demo, client, settings):
    settings.AUTOCRM_LOCKOUT_FAILURES = 3
    for _ in range(3):
        assert sign_in(client, "manager_a", "wrong-password").status_code == 401

    resp = sign_in(client, "manager_a")

    assert resp.status_code == 429
    assert resp.json()["code"] == "rate_limited"
    assert int(resp["Retry-After"]) > 0
    assert not ApiToken.objects.exists()
    assert LoginAttempt.objects.filter(username="manager_a", success=False).count() == 4


def test_integration_users_cannot_sign_in_with_a_password(demo, client):
    user = User.objects.get(username="marketing_a1")
    user.kind = "integration"
    user.save()

    assert sign_in(client, "marketing_a1").status_code == 401


def test_second_factor_is_required_when_enabled(demo, client):
    user = User.objects.get(username="manager_a")
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = True
    user.save()

    without = sign_in(client, "manager_a")
    wrong = sign_in(client, "manager_a", otp="000000" if pyotp.TOTP(user.totp_secret).now() != "000000" else "111111")
    right = sign_in(client, "manager_a", otp=pyotp.TOTP(user.totp_secret).now())

    assert without.status_code == 401 and "otp" in without.json()["fields"]
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert ApiToken.objects.filter(user=user).count() == 1


def test_successful_sign_in_is_audited(demo, client):
    sign_in(client, "sales_a1")

    user = User.objects.get(username="sales_a1")
    assert AuditEvent.objects.filter(action="login", object_type="accounts.user", object_id=str(user.pk)).exists()


def test_me_describes_user_store_role_permissions_and_scopes(demo, client):
    resp = client.get("/api/v1/me", headers=bearer(session_secret("sales_a1")))

    assert resp.status_code == 200
    me = resp.json()
    store_a = demo["stores"]["a"]
    assert me["user"] == {
        "id": User.objects.get(username="sales_a1").pk,
        "username": "sales_a1",
        "display_name": "李娜",
        "kind": "staff",
    }
    assert me["organization"]["code"] == "demo"
    assert me["role"] == "sales"
    assert me["store"] == {"id": store_a.pk, "code": "a", "name": store_a.name, "brand": "比亚迪", "role": "sales"}
    assert me["stores"] == [me["store"]]
    assert me["permissions"]["testapp.ticket"] == {"actions": ["add", "change", "reveal", "view"], "scope": "own"}
    assert "audit.auditevent" not in me["permissions"]
    assert me["scopes"] == ["*"]


def test_me_for_a_director_lists_every_store_and_follows_x_store(demo, client):
    store_b = demo["stores"]["b"]

    me = client.get("/api/v1/me", headers=bearer(session_secret("director"), **{"X-Store": str(store_b.pk)})).json()

    assert [(s["code"], s["role"]) for s in me["stores"]] == [("a", "director"), ("b", "director")]
    assert me["store"]["code"] == "b"
    assert me["permissions"]["audit.auditevent"] == {"actions": ["view"], "scope": "organization"}


def test_x_store_outside_the_users_stores_is_ignored(demo, client):
    store_b = demo["stores"]["b"]

    me = client.get("/api/v1/me", headers=bearer(session_secret("sales_a1"), **{"X-Store": str(store_b.pk)})).json()

    assert me["store"]["code"] == "a"


def test_me_without_or_with_a_bad_token_is_401(demo, client):
    for headers in ({}, bearer("acrm_not-a-real-token"), bearer("something-else"), {"Authorization": "Basic eDp5"}):
        resp = client.get("/api/v1/me", headers=headers)
        assert resp.status_code == 401
        assert resp.json()["code"] == "unauthenticated"


def test_stores_lists_what_the_actor_may_see(demo, client):
    sales = client.get("/api/v1/stores", headers=bearer(session_secret("sales_b1"))).json()
    director = client.get("/api/v1/stores", headers=bearer(session_secret("director"))).json()
    first = client.get("/api/v1/stores?limit=1", headers=bearer(session_secret("director"))).json()
    second = client.get(
        f"/api/v1/stores?limit=1&cursor={first['next_cursor']}", headers=bearer(session_secret("director"))
    ).json()

    assert [s["code"] for s in sales["items"]] == ["b"]
    assert [s["code"] for s in director["items"]] == ["a", "b"]
    assert director["next_cursor"] is None
    assert [s["code"] for s in first["items"] + second["items"]] == ["a", "b"]
    assert second["next_cursor"] is None
