"""Modules switched on per store: the four enforcement points (menu, pages, API, scheduled
jobs), exercised with the test module of tests/testapp (no real module exists yet). A director
who works in both stores sees the module in store a and not in store b."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from testapp import tasks as testapp_tasks
from testapp.factories import actor_for
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.core import modules
from autocrm.core.modules import Module, effective, module_enabled, stores_with_module
from autocrm.core.tests.test_api_errors import bearer
from autocrm.tenancy.models import Store
from autocrm.tenancy.services import store_modules_set

KEY = "testapp"


@pytest.fixture
def stores(demo):
    """The test module on in store a, off in store b (switched by the administrator)."""
    admin = actor_for("admin", "a")
    b = demo["stores"]["b"]
    store_modules_set(actor=admin, store_id=b.pk, enabled=sorted(b.modules_on - {KEY}))
    a_ticket = Ticket.objects.create(store=demo["stores"]["a"], title="ticket-a")
    b_ticket = Ticket.objects.create(store=b, title="ticket-b")
    return {"a": demo["stores"]["a"], "b": b, "a_ticket": a_ticket, "b_ticket": b_ticket}


@pytest.fixture
def ticket_menu():
    """A menu entry of the test module (only for these tests: other tests list the menu)."""
    from autocrm.core.navigation import MENU, register_menu

    register_menu("testapp_tickets", "Tickets", "testapp_ticket_list", order=950, module=KEY)
    yield
    MENU.unregister("testapp_tickets")


def _switch(client: Client, store: Store) -> None:
    response = client.post("/accounts/store/", {"store": store.pk, "next": "/"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # shows (and so clears) the "now working in" message


def _page(response) -> str:
    """The page as the same for every path: masked CSRF tokens differ per page, and the shell
    repeats the path (the store switcher's way back)."""
    body = response.content.decode().replace(response.wsgi_request.path, "PATH")
    return re.sub(r"[A-Za-z0-9]{64}", "TOKEN", body)


def test_a_new_store_gets_the_defaults_and_a_later_module_its_default(demo):
    store = Store.objects.create(organization=demo["organization"], code="c", name="c", brand="x", city="x")
    defaults = {m.key for m in modules.modules() if m.default}
    assert store.modules_on == defaults
    assert {"sales", "aftersales", "care", "analytics", KEY} <= defaults
    assert not {"loyalty", "marketing", "portal", "integrations"} & defaults
    # A module registered after the store was created takes its default there.
    assert effective({"sales": True}) == defaults
    assert "customers" not in {m.key for m in modules.modules()}  # master data is always on


def test_menu_entry_shows_in_the_store_that_has_the_module(stores, client, ticket_menu):
    client.force_login(User.objects.get(username="director"))
    _switch(client, stores["a"])
    assert 'data-menu-key="testapp_tickets"' in client.get("/").content.decode()

    _switch(client, stores["b"])
    body = client.get("/").content.decode()
    assert 'data-menu-key="testapp_tickets"' not in body
    assert 'data-menu-key="customers"' in body  # master data stays


def test_pages_of_a_module_that_is_off_answer_the_404_page(stores, client):
    client.force_login(User.objects.get(username="director"))
    _switch(client, stores["a"])
    on = client.get("/testapp/tickets/")
    assert on.status_code == 200 and b"ticket-a" in on.content
    assert client.get(f"/testapp/tickets/{stores['a_ticket'].pk}/").status_code == 200

    _switch(client, stores["b"])
    off = client.get("/testapp/tickets/")
    detail = client.get(f"/testapp/tickets/{stores['b_ticket'].pk}/")
    missing = client.get("/no-such-page/")
    assert off.status_code == detail.status_code == missing.status_code == 404
    assert _page(off) == _page(detail) == _page(missing)
    # Other pages of the store still work.
    assert client.get("/customers/").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in_first(stores, client):
    response = client.get("/testapp/tickets/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_api_of_a_module_that_is_off_is_404_in_the_error_shape(stores, client):
    a, b = stores["a"], stores["b"]
    on = client.get(
        f"/api/v1/testapp/tickets/{stores['a_ticket'].pk}", headers=bearer("director", **{"X-Store": str(a.pk)})
    )
    assert on.status_code == 200 and on.json()["title"] == "ticket-a"

    headers = bearer("director", **{"X-Store": str(b.pk)})
    off = client.get(f"/api/v1/testapp/tickets/{stores['b_ticket'].pk}", headers=headers)
    missing = client.get("/api/v1/testapp/tickets/987654321", headers=bearer("director", **{"X-Store": str(a.pk)}))
    bad_input = client.get("/api/v1/testapp/tickets/not-a-number", headers=headers)
    create = client.post("/api/v1/testapp/tickets", {"title": "x"}, content_type="application/json", headers=headers)
    assert off.status_code == bad_input.status_code == create.status_code == missing.status_code == 404
    assert off.content == bad_input.content == create.content == missing.content
    assert off.json() == {"code": "not_found", "message": off.json()["message"], "fields": {}}
    assert not Ticket.objects.filter(title="x").exists()
    # Master data and the platform endpoints are not gated.
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/testapp/tickets/1").status_code == 401  # no token: 401 as always


def test_the_openapi_document_keeps_one_bearer_scheme(demo, client):
    doc = client.get("/api/v1/openapi.json").json()
    assert list(doc["components"]["securitySchemes"]) == ["BearerAuth"]
    assert doc["paths"]["/api/v1/testapp/tickets/{pk}"]["get"]["security"] == [{"BearerAuth": []}]


def test_a_store_bound_token_follows_its_store(stores, client):
    user = User.objects.get(username="manager_b")
    _token, secret = token_issue_session(user=user)
    response = client.get(
        f"/api/v1/testapp/tickets/{stores['b_ticket'].pk}", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 404


def test_scheduled_jobs_skip_stores_that_have_the_module_off(stores):
    testapp_tasks.SWEPT.clear()
    testapp_tasks.ticket_sweep()  # what the scheduler runs (immediate mode in tests)
    assert [stores["a"].pk] == testapp_tasks.SWEPT
    assert stores_with_module(KEY) == [stores["a"].pk]


def test_inactive_stores_have_no_module_on(stores):
    Store.objects.filter(pk=stores["a"].pk).update(is_active=False)
    assert stores_with_module(KEY) == []
    assert not module_enabled(stores["a"].pk, KEY)


def test_one_store_failing_does_not_stop_the_others(stores, monkeypatch):
    store_modules_set(actor=actor_for("admin", "a"), store_id=stores["b"].pk, enabled=[KEY])
    seen = []

    def flaky(*, store_id):
        seen.append(store_id)
        if store_id == stores["a"].pk:
            raise RuntimeError("bad data in store a")

    from huey import crontab

    from autocrm.core.modules import store_periodic_task

    task = store_periodic_task(KEY, crontab(minute="0", hour="4"), name="testapp.flaky")(flaky)
    task()
    assert seen == [stores["a"].pk, stores["b"].pk]


def test_module_keys_must_be_registered(settings):
    from django.apps import apps

    config = apps.get_app_config("testapp")
    assert modules.check_declarations() == []
    saved = config.module_key
    config.module_key = "no-such-module"
    try:
        errors = modules.check_declarations()
    finally:
        config.module_key = saved
    assert [e.id for e in errors] == ["autocrm.E001"]


def test_the_actor_reads_its_store_once_per_request(stores, django_assert_num_queries):
    actor = actor_for("director", "a")
    # The actor comes with its current store's modules (read with its memberships, ADR 0012).
    with django_assert_num_queries(0):
        assert module_enabled(actor, KEY)
        assert module_enabled(actor, KEY)
        assert module_enabled(actor, "sales")
    assert module_enabled(actor, None)  # master data: no query, always on
    assert Module("x", "x").default is True


def test_panels_of_a_module_follow_it(stores):
    from testapp.views import ticket_panel

    from autocrm.core.extensions import PANELS, Panel, panels_for, register_panel

    register_panel(Panel("testapp.target", "tickets", "x.html", ticket_panel))
    try:
        in_a = panels_for("testapp.target", actor_for("director", "a"), None)
        in_b = panels_for("testapp.target", actor_for("director", "b"), None)
    finally:
        PANELS.unregister("tickets", group="testapp.target")
    assert [p.key for p, _ctx in in_a] == ["tickets"]
    assert in_b == []


def test_a_generic_view_of_core_follows_its_models_module(stores):
    from django.views.generic import ListView

    from autocrm.core.modules import module_of_view

    assert module_of_view(ListView.as_view(model=Ticket)) == KEY
    assert module_of_view(ListView.as_view(model=Store)) is None  # master data, always on
