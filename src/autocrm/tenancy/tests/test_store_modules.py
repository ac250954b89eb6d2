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
    assert {"care", "loyalty"} <= b.modules_on  # the demo stores have every module on
    url = f"/admin/stores/{b.pk}/modules/"
    assert 'data-testid="module-care" checked' in admin_client.get(url).content.decode()

    response = admin_client.post(url, {"modules": sorted(b.modules_on - {"care", "loyalty"})})
    assert response.status_code == 302
    page = admin_client.get(url).content.decode()
    assert 'data-testid="module-care">' in page and 'data-testid="module-sales" checked' in page
    assert admin_client.post(url, {"modules": sorted(b.modules_on - {"care"})}).status_code == 302
    stored = Store.objects.get(pk=b.pk)
    assert stored.modules_on == b.modules_on - {"care"}
    assert Store.objects.get(pk=demo["stores"]["a"].pk).modules_on == demo["stores"]["a"].modules_on  # untouched

    events = list(AuditEvent.objects.filter(action="store.modules").order_by("id"))
    assert [(e.store_id, e.actor_label) for e in events] == [(b.pk, "admin"), (b.pk, "admin")]
    assert [e.extra for e in events] == [
        {"switched_on": [], "switched_off": ["care", "loyalty"]},
        {"switched_on": ["loyalty"], "switched_off": []},
    ]
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


def _bearer(username):
    from autocrm.accounts.services import token_issue_session

    return {"Authorization": f"Bearer {token_issue_session(user=User.objects.get(username=username))[1]}"}


def test_api_lists_and_sets_a_stores_modules(demo, client):
    b = demo["stores"]["b"]
    listed = client.get("/api/v1/stores", headers=_bearer("director")).json()["items"]
    assert {s["code"]: "care" in s["modules"] for s in listed} == {"a": True, "b": True}

    url = f"/api/v1/stores/{b.pk}/modules"
    response = client.put(
        url, {"modules": ["sales", "care"]}, content_type="application/json", headers=_bearer("admin")
    )
    assert response.status_code == 200 and response.json()["modules"] == ["sales", "care"]
    assert Store.objects.get(pk=b.pk).modules_on == {"sales", "care"}

    bad = client.put(url, {"modules": ["sales", "x\x00"]}, content_type="application/json", headers=_bearer("admin"))
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["modules.1"]  # the item with the NUL
    assert (
        client.put(url, {"modules": "sales"}, content_type="application/json", headers=_bearer("admin")).status_code
        == 400
    )
    denied = client.put(url, {"modules": []}, content_type="application/json", headers=_bearer("director"))
    assert denied.status_code == 403
    assert client.put("/api/v1/stores/987654/modules", {"modules": []}, content_type="application/json",
                      headers=_bearer("admin")).status_code == 404  # fmt: skip
    assert Store.objects.get(pk=b.pk).modules_on == {"sales", "care"}
