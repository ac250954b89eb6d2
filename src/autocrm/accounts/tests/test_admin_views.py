"""The administrator's pages: users and roles, activation, password reset, integration tokens.
Only administrators may open them; another organization's users look missing."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from autocrm.accounts.models import ApiToken, Membership, User
from autocrm.accounts.services import token_issue_session, user_create
from autocrm.audit.models import AuditEvent
from autocrm.tenancy.models import Organization, Store

PASSWORD = "autocrm-demo"
NEW_PASSWORD = "Qu1et-harbour-lantern"


def login(client, username: str) -> User:
    user = User.objects.get(username=username)
    client.force_login(user)
    return user


def menu_keys(response) -> list[str]:
    return [item["key"] for item in response.context["menu"]]


def admin_urls(user_id: int, membership_id: int, token_id: int) -> list[tuple[str, str]]:
    return [
        ("get", reverse("accounts_admin:user_list")),
        ("get", reverse("accounts_admin:user_create")),
        ("post", reverse("accounts_admin:user_create")),
        ("get", reverse("accounts_admin:user_detail", args=[user_id])),
        ("post", reverse("accounts_admin:membership_set", args=[user_id])),
        ("post", reverse("accounts_admin:membership_deactivate", args=[user_id, membership_id])),
        ("post", reverse("accounts_admin:user_active", args=[user_id])),
        ("post", reverse("accounts_admin:user_password", args=[user_id])),
        ("get", reverse("accounts_admin:token_list")),
        ("post", reverse("accounts_admin:token_list")),
        ("post", reverse("accounts_admin:token_revoke", args=[token_id])),
    ]


def test_admin_creates_a_sales_user_who_can_sign_in_and_sees_customers(client, demo):
    login(client, "admin")
    store_a = demo["stores"]["a"]
    listing = client.get(reverse("accounts_admin:user_list"))
    assert listing.status_code == 200
    assert "users_admin" in menu_keys(listing)
    assert "sales_a1" in listing.content.decode()

    response = client.post(
        reverse("accounts_admin:user_create"),
        {
            "username": "sales_a9",
            "display_name": "新人 王五",
            "email": "w5@example.com",
            "password": NEW_PASSWORD,
            "role": "sales",
            "store": store_a.pk,
        },
    )

    user = User.objects.get(username="sales_a9")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts_admin:user_detail", args=[user.pk])
    assert user.organization_id == demo["organization"].pk and user.kind == "staff"
    assert list(Membership.objects.filter(user=user).values_list("role", "store_id")) == [("sales", store_a.pk)]
    assert AuditEvent.objects.filter(action="create", object_type="accounts.user", object_id=str(user.pk)).exists()
    detail = client.get(reverse("accounts_admin:user_detail", args=[user.pk]))
    assert "新人 王五" in detail.content.decode()

    client.logout()
    signed_in = client.post(reverse("accounts:login"), {"username": "sales_a9", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    home = client.get(reverse("home"))
    assert home.context["user"].username == "sales_a9"
    assert "customers" in menu_keys(home)
    assert "users_admin" not in menu_keys(home)


def test_create_names_the_bad_fields_and_writes_nothing(client, demo):
    login(client, "admin")
    before = User.objects.count()

    weak = client.post(
        reverse("accounts_admin:user_create"),
        {"username": "sales_a9", "password": "12345", "role": "sales", "store": demo["stores"]["a"].pk},
    )
    taken = client.post(
        reverse("accounts_admin:user_create"),
        {"username": "sales_a1", "password": NEW_PASSWORD, "role": "sales", "store": demo["stores"]["a"].pk},
    )
    director_in_store = client.post(
        reverse("accounts_admin:user_create"),
        {"username": "dir2", "password": NEW_PASSWORD, "role": "director", "store": demo["stores"]["a"].pk},
    )

    assert weak.status_code == 200 and weak.context["form"].errors["password"]
    assert taken.status_code == 200 and taken.context["form"].errors["username"]
    assert director_in_store.status_code == 200 and director_in_store.context["form"].errors["store"]
    assert User.objects.count() == before


@pytest.mark.parametrize("username", ["manager_a", "director", "sales_a1"])
def test_non_administrators_get_403_on_every_admin_page(client, demo, username):
    target = User.objects.get(username="sales_a2")
    membership = Membership.objects.get(user=target)
    token, _secret = token_issue_session(user=target)
    login(client, username)
    home = client.get(reverse("home"))
    assert "users_admin" not in menu_keys(home)

    for method, url in admin_urls(target.pk, membership.pk, token.pk):
        response = getattr(client, method)(url, {"active": "0", "password": NEW_PASSWORD, "role": "admin"})
        assert response.status_code == 403, (method, url)

    target.refresh_from_db()
    token.refresh_from_db()
    assert target.is_active and target.check_password(PASSWORD) and token.revoked_at is None
    assert Membership.objects.get(pk=membership.pk).role == "sales"


def test_admin_cannot_deactivate_themselves(client, demo):
    admin = login(client, "admin")

    response = client.post(reverse("accounts_admin:user_active", args=[admin.pk]), {"active": "0"}, follow=True)

    admin.refresh_from_db()
    assert admin.is_active
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert 'data-testid="user-deactivate"' not in response.content.decode()


def test_deactivated_user_cannot_sign_in_and_can_be_reactivated(client, demo):
    login(client, "admin")
    target = User.objects.get(username="sales_a1")

    client.post(reverse("accounts_admin:user_active", args=[target.pk]), {"active": "0"})

    target.refresh_from_db()
    assert not target.is_active
    assert AuditEvent.objects.filter(action="update", object_type="accounts.user", object_id=str(target.pk)).exists()
    listing = client.get(reverse("accounts_admin:user_list")).content.decode()
    assert 'data-username="sales_a1" data-active="0"' in listing
    client.logout()
    refused = client.post(reverse("accounts:login"), {"username": "sales_a1", "password": PASSWORD})
    assert refused.status_code == 200
    assert not refused.wsgi_request.user.is_authenticated

    login(client, "admin")
    client.post(reverse("accounts_admin:user_active", args=[target.pk]), {"active": "1"})
    client.logout()
    again = client.post(reverse("accounts:login"), {"username": "sales_a1", "password": PASSWORD})
    assert again.status_code == 302


def test_reset_password_revokes_the_users_api_tokens(client, demo):
    login(client, "admin")
    target = User.objects.get(username="sales_a1")
    _token, secret = token_issue_session(user=target)
    assert client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}).status_code != 401

    weak = client.post(reverse("accounts_admin:user_password", args=[target.pk]), {"password": "short"})
    assert weak.status_code == 200 and weak.context["password_form"].errors["password"]
    response = client.post(reverse("accounts_admin:user_password", args=[target.pk]), {"password": NEW_PASSWORD})

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    assert not ApiToken.objects.filter(user=target, revoked_at__isnull=True).exists()
    assert client.get("/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert AuditEvent.objects.filter(action="password.reset", object_id=str(target.pk)).exists()


def test_admin_adds_changes_and_removes_a_role(client, demo):
    login(client, "admin")
    target = User.objects.get(username="sales_a1")
    store_b = demo["stores"]["b"]
    url = reverse("accounts_admin:membership_set", args=[target.pk])

    client.post(url, {"role": "advisor", "store": store_b.pk})
    client.post(url, {"role": "manager", "store": store_b.pk})
    bad = client.post(url, {"role": "manager", "store": ""})

    assert bad.status_code == 200 and bad.context["membership_form"].errors["store"]
    membership = Membership.objects.get(user=target, store=store_b)
    assert membership.role == "manager" and membership.is_active
    client.post(reverse("accounts_admin:membership_deactivate", args=[target.pk, membership.pk]))
    membership.refresh_from_db()
    assert not membership.is_active


def test_token_created_shows_the_secret_once_and_stores_only_the_hash(client, demo):
    login(client, "admin")

    response = client.post(
        reverse("accounts_admin:token_list"),
        {
            "username": "dms",
            "integration_name": "DMS 导出",
            "name": "dms-export",
            "scopes": ["customers:read", "vehicles:read"],
            "expires_in_days": "30",
            "store": demo["stores"]["a"].pk,
        },
    )

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    token = ApiToken.objects.get(name="dms-export")
    assert token.user.username == "dms" and token.user.kind == "integration"
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.name, token.prefix, token.key_hash}
    again = client.get(reverse("accounts_admin:token_list")).content.decode()
    assert "dms-export" in again and secret not in again

    client.post(reverse("accounts_admin:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke", object_id=str(token.pk)).exists()


def test_token_form_names_a_staff_user_as_wrong(client, demo):
    login(client, "admin")

    response = client.post(
        reverse("accounts_admin:token_list"),
        {"username": "sales_a1", "name": "x", "scopes": ["customers:read"], "expires_in_days": "30"},
    )

    assert response.status_code == 200 and response.context["secret"] is None
    assert response.context["form"].errors["username"]
    assert not ApiToken.objects.filter(name="x").exists()


def test_another_organizations_user_is_404(client, demo):
    other_org = Organization.objects.create(code="other", name="Other group")
    other_store = Store.objects.create(organization=other_org, code="x", name="X 店")
    stranger = user_create(organization_id=other_org.pk, username="stranger", password=PASSWORD)
    membership = Membership.objects.create(user=stranger, organization=other_org, store=other_store, role="sales")
    token, _secret = token_issue_session(user=stranger)
    login(client, "admin")

    for method, url in admin_urls(stranger.pk, membership.pk, token.pk):
        if ("/tokens/" in url and "revoke" not in url) or url.endswith("/users/") or url.endswith("/new/"):
            continue
        response = getattr(client, method)(url, {"active": "0", "password": NEW_PASSWORD, "role": "sales"})
        assert response.status_code == 404, (method, url)

    listing = client.get(reverse("accounts_admin:user_list")).content.decode()
    assert "stranger" not in listing
    stranger.refresh_from_db()
    token.refresh_from_db()
    assert stranger.is_active and stranger.check_password(PASSWORD) and token.revoked_at is None
    assert "x 店" not in client.get(reverse("accounts_admin:user_create")).content.decode().lower()
