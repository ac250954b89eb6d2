"""The administrator's modules page and service: switch a store's modules on and off, audited;
other roles 403 (audited), another organization's store 404, bad input changes nothing."""

from __future__ import annotations

import pytest
from testapp.factories import actor_for

from autocrm.accounts.models import User
from autocrm.audit.models import AuditEvent
from autocrm.core.errors import NotFound, PermissionDenied, ValidationError
from autocrm.tenancy.models import Organization, Store
from autocrm.tenancy.services import store_modules_set


@pytest.fixture
def admin_client(demo, client):
    client.force_login(User.objects.get(username="admin"))
    return client


def test_the_administrator_switches_a_module_off_and_on_again(demo, admin_client):
    b = demo["stores"]["b"]
    assert "care" in b.modules_on
    url = f"/admin/stores/{b.pk}/modules/"
    page = admin_client.get(url).content.decode()
    assert 'data-testid="module-care" checked' in page and 'data-testid="module-loyalty">' in page

    kept = sorted(b.modules_on - {"care"} | {"loyalty"})
    response = admin_client.post(url, {"modules": kept})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.modules_on == set(kept)
    assert demo["stores"]["a"].modules_on == Store.objects.get(pk=demo["stores"]["a"].pk).modules_on  # untouched

    event = AuditEvent.objects.filter(action="store.modules").get()
    assert (event.store_id, event.actor_label) == (b.pk, "admin")
    assert event.extra == {"switched_on": ["loyalty"], "switched_off": ["care"]}
    assert AuditEvent.objects.filter(action="update", object_type="tenancy.store", object_id=str(b.pk)).exists()

    listing = admin_client.get("/admin/stores/").content.decode()
    row = listing[listing.index('data-store="b"') :]
    row = row[: row.index("</tr>")]
    assert 'data-module="loyalty"' in row and 'data-module="care"' not in row


def test_saving_the_same_choice_records_no_change(demo):
    admin = actor_for("admin", "a")
    a = demo["stores"]["a"]
    store_modules_set(actor=admin, store_id=a.pk, enabled=a.modules_on)
    assert not AuditEvent.objects.filter(action="store.modules").exists()


def test_an_unknown_module_is_a_field_error_and_changes_nothing(demo, admin_client):
    b = demo["stores"]["b"]
    before = dict(b.modules)
    response = admin_client.post(f"/admin/stores/{b.pk}/modules/", {"modules": ["sales", "no-such"]})
    assert response.status_code == 200
    assert "no-such" in response.content.decode()
    b.refresh_from_db()
    assert b.modules == before

    with pytest.raises(ValidationError) as exc:
        store_modules_set(actor=actor_for("admin", "a"), store_id=b.pk, enabled=["sales", "no-such\x00"])
    assert list(exc.value.fields) == ["modules"]


@pytest.mark.parametrize("username", ["manager_a", "director", "sales_a1"])
def test_only_administrators_switch_modules(demo, client, username):
    a = demo["stores"]["a"]
    client.force_login(User.objects.get(username=username))
    assert client.get("/admin/stores/").status_code == 403
    assert client.post(f"/admin/stores/{a.pk}/modules/", {"modules": []}).status_code == 403
    assert AuditEvent.objects.filter(action="authz.denied", object_type="tenancy.store").exists()
    assert Store.objects.get(pk=a.pk).modules_on == a.modules_on
    with pytest.raises(PermissionDenied):
        store_modules_set(actor=actor_for(username, "a"), store_id=a.pk, enabled=[])


def test_another_organizations_store_is_404(demo, admin_client):
    other_org = Organization.objects.create(code="other", name="other")
    theirs = Store.objects.create(organization=other_org, code="x", name="x", brand="x", city="x")
    assert admin_client.get(f"/admin/stores/{theirs.pk}/modules/").status_code == 404
    assert admin_client.post(f"/admin/stores/{theirs.pk}/modules/", {"modules": []}).status_code == 404
    with pytest.raises(NotFound):
        store_modules_set(actor=actor_for("admin", "a"), store_id=theirs.pk, enabled=[])


def test_the_menu_links_the_page_for_administrators_only(demo, client):
    client.force_login(User.objects.get(username="admin"))
    assert 'data-menu-key="stores_admin"' in client.get("/").content.decode()
    client.force_login(User.objects.get(username="manager_a"))
    assert 'data-menu-key="stores_admin"' not in client.get("/").content.decode()
