"""Sign-in security: lock-out after repeated failures, the TOTP second factor, argon2 hashes."""

from __future__ import annotations

import time
from unittest import mock

import pyotp
import pytest
from django.contrib.auth.hashers import check_password, identify_hasher
from django.db import connection
from django.test import override_settings

from autocrm.accounts.models import LoginAttempt, User
from autocrm.accounts.services import (
    login_authenticate,
    totp_begin,
    totp_confirm,
    totp_disable,
    totp_verify,
    user_create,
)
from autocrm.audit.models import AuditEvent
from autocrm.config import settings as production_settings
from autocrm.core.errors import PermissionDenied, RateLimited, Unauthenticated, ValidationError

PASSWORD = "autocrm-demo"


def _fail(username: str = "sales_a1") -> None:
    with pytest.raises(Unauthenticated):
        login_authenticate(username=username, password="wrong-password", ip="10.0.0.9")


@override_settings(AUTOCRM_LOCKOUT_FAILURES=5, AUTOCRM_LOCKOUT_MINUTES=15)
def test_five_failures_lock_the_account_even_for_the_right_password(demo):
    for _ in range(4):
        _fail()
    assert login_authenticate(username="sales_a1", password=PASSWORD, ip=None).username == "sales_a1"
    for _ in range(5):  # a success resets the count; five more failures lock
        _fail()
    with pytest.raises(RateLimited) as locked:
        login_authenticate(username="sales_a1", password=PASSWORD, ip="10.0.0.9")
    assert 0 < locked.value.retry_after <= 16 * 60
    assert "15" in str(locked.value.message) or "16" in str(locked.value.message)
    assert AuditEvent.objects.filter(action="login.failed").count() == 9
    assert AuditEvent.objects.filter(action="login.locked").exists()
    # Other accounts are not affected.
    assert login_authenticate(username="sales_a2", password=PASSWORD, ip="10.0.0.9").username == "sales_a2"
    # Once the window has passed (the shared cache's clock 16 minutes on), the right password works again.
    later = time.time() + 16 * 60
    with mock.patch("time.time", return_value=later):
        assert login_authenticate(username="sales_a1", password=PASSWORD, ip=None).username == "sales_a1"


def test_every_attempt_is_recorded(demo):
    _fail()
    login_authenticate(username="sales_a1", password=PASSWORD, ip="10.0.0.9")
    attempts = list(LoginAttempt.objects.filter(username="sales_a1").order_by("id").values_list("success", "ip"))
    assert attempts == [(False, "10.0.0.9"), (True, "10.0.0.9")]


def test_the_production_hasher_is_argon2(db):
    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS):
        from autocrm.tenancy.models import Organization

        org = Organization.objects.create(name="测试集团", code="t")
        user = user_create(organization_id=org.pk, username="argon", password="a long passphrase 1")
        stored = User.objects.get(pk=user.pk).password
        assert stored.startswith("argon2$")
        assert identify_hasher(stored).algorithm == "argon2"
        assert "a long passphrase 1" not in stored
        assert check_password("a long passphrase 1", stored)
        assert not check_password("a long passphrase 2", stored)


# --- TOTP ---------------------------------------------------------------------------------


def test_totp_enrolment_for_a_manager(demo):
    manager = User.objects.get(username="manager_a")
    secret = totp_begin(user=manager)
    manager.refresh_from_db()
    assert not manager.totp_enabled  # not enforced until confirmed
    with pytest.raises(ValidationError) as wrong:
        totp_confirm(user=manager, code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert "code" in wrong.value.fields
    totp_confirm(user=manager, code=pyotp.TOTP(secret).now())
    manager.refresh_from_db()
    assert manager.totp_enabled
    assert totp_verify(user=manager, code=pyotp.TOTP(secret).now())
    assert not totp_verify(user=manager, code="")
    # The secret is encrypted at rest.
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [manager.pk])
        (raw,) = cursor.fetchone()
    assert raw.startswith("enc:v1:")
    assert secret not in raw
    totp_disable(user=manager, code=pyotp.TOTP(secret).now())
    manager.refresh_from_db()
    assert (manager.totp_enabled, manager.totp_secret) == (False, "")


@pytest.mark.parametrize("username", ["sales_a1", "advisor_a1", "agent_a1", "marketing_a1"])
def test_totp_is_for_managers_directors_and_administrators(demo, username):
    user = User.objects.get(username=username)
    with pytest.raises(PermissionDenied):
        totp_begin(user=user)
    user.refresh_from_db()
    assert user.totp_secret == ""


@pytest.mark.parametrize("username", ["director", "admin"])
def test_directors_and_administrators_may_enrol(demo, username):
    assert totp_begin(user=User.objects.get(username=username))
