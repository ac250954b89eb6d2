"""A user changes their own password: page from the user menu and POST /api/v1/me/password.
Wrong current password, weak new password and NUL bytes change nothing; success keeps this
session, ends the others, revokes the user's other API tokens, and is audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from autocrm.accounts.models import ApiToken, LoginAttempt, User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent

DEMO = settings.AUTOCRM_DEMO_PASSWORD
NEW = "青山绿水-2026-autocrm"
URL = "/accounts/password/"
API = "/api/v1/me/password"


def signed_in(username: str = "sales_a1", language: str = "en") -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # the staff UI ignores Accept-Language
    assert client.login(username=username, password=DEMO)
    return client


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def post(client: Client, current: str, new: str, again: str | None = None):
    return client.post(
        URL,
        {"current_password": current, "new_password": new, "new_password_again": new if again is None else again},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_the_user_menu_links_the_page(demo):
    body = signed_in().get("/").content.decode()
    assert f'href="{URL}"' in body and 'data-testid="password-change"' in body


def test_change_keeps_this_session_and_ends_the_others(demo):
    user = User.objects.get(username="sales_a1")
    here, elsewhere = signed_in(), signed_in()
    _t1, secret1 = token_issue_session(user=user)
    _t2, secret2 = token_issue_session(user=user)

    response = post(here, DEMO, NEW)
    assert response.status_code == 302 and response["Location"] == "/accounts/security/"

    user.refresh_from_db()
    assert user.check_password(NEW) and not user.check_password(DEMO)
    assert here.get("/").status_code == 200  # still signed in
    gone = elsewhere.get("/")
    assert gone.status_code == 302 and "/accounts/login/" in gone["Location"]
    for secret in (secret1, secret2):
        assert Client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    event = AuditEvent.objects.get(action="password.change")
    assert (event.actor_label, event.object_id, event.extra["tokens_revoked"]) == ("sales_a1", str(user.pk), 2)
    assert NEW not in str(event.changes) and NEW not in str(event.extra)
    assert Client().login(username="sales_a1", password=NEW)


def test_wrong_current_password_changes_nothing_and_counts_as_a_failed_sign_in(demo):
    client = signed_in()
    response = post(client, "not-my-password", NEW)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-error-for="current_password">Your current password is not correct.' in body
    assert User.objects.get(username="sales_a1").check_password(DEMO)
    assert LoginAttempt.objects.filter(username="sales_a1", success=False).count() == 1
    assert AuditEvent.objects.filter(action="password.change_failed").count() == 1
    assert not AuditEvent.objects.filter(action="password.change").exists()


def test_guessing_the_current_password_meets_the_lock_out(demo):
    client = signed_in()
    for _ in range(settings.AUTOCRM_LOCKOUT_FAILURES):
        post(client, "guess", NEW)
    response = post(client, DEMO, NEW)  # even the right one, while locked
    assert "Too many wrong passwords" in response.content.decode()
    assert User.objects.get(username="sales_a1").check_password(DEMO)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short1", "This password is too short"),
        ("12345678901234", "This password is entirely numeric"),
        ("password1234", "This password is too common"),
        (DEMO, "Choose a password different from the current one."),
    ],
)
def test_weak_new_password_is_refused_with_django_validators(demo, new, message):
    response = post(signed_in(), DEMO, new)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.get(username="sales_a1").check_password(DEMO)


def test_the_two_new_passwords_must_match(demo):
    response = post(signed_in(), DEMO, NEW, again=NEW + "x")
    assert 'data-error-for="new_password_again">The two new passwords do not match.' in response.content.decode()
    assert User.objects.get(username="sales_a1").check_password(DEMO)


@pytest.mark.parametrize("field", ["current_password", "new_password"])
def test_nul_bytes_are_refused_naming_the_field(demo, field):
    """The input check refuses NUL in any form field before the view runs: a 400 naming the
    field, and the password is unchanged."""
    values = {"current_password": DEMO, "new_password": NEW, "new_password_again": NEW}
    values[field] = values[field][:3] + "\x00" + values[field][3:]
    if field == "new_password":
        values["new_password_again"] = values["new_password"]
    response = signed_in().post(URL, values, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert field in response.content.decode()
    assert User.objects.get(username="sales_a1").check_password(DEMO)


def test_the_page_is_in_chinese(demo):
    body = signed_in(language="zh-hans").get(URL).content.decode()
    assert "修改密码" in body and "当前密码" in body


# --- API --------------------------------------------------------------------------------------


def test_api_changes_the_password_keeps_the_calling_token_and_revokes_the_others(demo, client):
    user = User.objects.get(username="sales_a1")
    calling, secret = token_issue_session(user=user)
    _other, other_secret = token_issue_session(user=user)
    browser = signed_in()

    response = client.post(
        API, {"current_password": DEMO, "new_password": NEW}, content_type="application/json", headers=bearer(secret)
    )
    assert response.status_code == 200
    assert response.json() == {"tokens_revoked": 1}
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(other_secret)).status_code == 401
    assert browser.get("/").status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert AuditEvent.objects.get(action="password.change").extra["kept_token"] == calling.pk


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"current_password": "wrong", "new_password": NEW}, "current_password"),
        ({"current_password": DEMO, "new_password": "short"}, "new_password"),
        ({"current_password": DEMO, "new_password": "1234567890123"}, "new_password"),
        ({"current_password": DEMO + "\x00", "new_password": NEW}, "current_password"),
        ({"current_password": DEMO, "new_password": NEW + "\x00"}, "new_password"),
        ({"current_password": "", "new_password": NEW}, "current_password"),
        ({"current_password": DEMO}, "new_password"),
    ],
)
def test_api_bad_input_is_400_naming_the_field(demo, client, payload, field):
    user = User.objects.get(username="sales_a1")
    _token, secret = token_issue_session(user=user)
    response = client.post(
        API, payload, content_type="application/json", headers=bearer(secret), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"]
    user.refresh_from_db()
    assert user.check_password(DEMO)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_api_needs_a_token(demo, client):
    response = client.post(API, {"current_password": DEMO, "new_password": NEW}, content_type="application/json")
    assert response.status_code == 401


def test_an_integration_user_has_no_password_to_change(demo, client):
    from testapp.factories import actor_for

    from autocrm.accounts.services import integration_token_create

    _token, secret = integration_token_create(
        actor=actor_for("admin", "a"), username="dms-sync", integration_name="DMS", name="n", scopes=["*"]
    )
    response = client.post(
        API, {"current_password": "x", "new_password": NEW}, content_type="application/json", headers=bearer(secret)
    )
    assert response.status_code == 400 and list(response.json()["fields"]) == ["new_password"]
    assert not AuditEvent.objects.filter(action="password.change").exists()
