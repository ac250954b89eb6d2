import time

import pytest
from django.core import signing
from django.test import Client, override_settings

from autocrm.customers.models import Consent
from autocrm.customers.tests.factories import make_customer
from autocrm.leads import views_public
from autocrm.leads.models import Lead
from autocrm.tenancy.models import Store

from .factories import actor_for, on_duty, uid

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(demo):
    on_duty("a", "sales_a1")
    store = Store.objects.select_related("organization").get(code="a")
    return f"/l/{store.organization.code}/{store.code}/", store


def token(store, age=10):
    return signing.dumps({"s": store.pk, "at": time.time() - age}, salt=views_public._SALT)


def send(client, url, store, **data):
    data.setdefault("t", token(store))
    return client.post(url, data)


def test_form_renders_without_login_and_is_embeddable(form):
    url, _store = form
    r = Client().get(url)
    assert r.status_code == 200 and b'name="mobile"' in r.content and b'name="website"' in r.content
    assert "X-Frame-Options" not in r.headers
    assert Client().get("/l/nope/nope/").status_code == 404


def test_person_creates_an_assigned_lead_with_consent(form):
    url, store = form
    customer = make_customer(actor_for("sales_manager_a", "a"), mobile="13866668888")
    r = send(Client(), url, store, name="路人", mobile="13866668888", model_interest="Model 3", consent="on")
    assert (r.status_code == 200 and b"Thank you" in r.content) or "谢谢".encode() in r.content
    lead = Lead.objects.get()
    assert (
        lead.source_channel == "web_form" and lead.consultant_id == uid("sales_a1") and lead.customer_id == customer.pk
    )
    assert (
        lead.marketing_consent and Consent.objects.filter(customer=customer, purpose="marketing", granted=True).exists()
    )


@pytest.mark.parametrize("bot", ["honeypot", "fast", "forged", "other_store", "no_token"])
def test_bots_see_thanks_and_nothing_is_created(form, bot):
    url, store = form
    data = {"name": "bot", "mobile": "13866668888"}
    if bot == "honeypot":
        data["website"] = "http://spam"
    elif bot == "fast":
        data["t"] = token(store, age=0)
    elif bot == "forged":
        data["t"] = "eyJzIjoxLCJhdCI6MH0:forged"
    elif bot == "other_store":
        data["t"] = signing.dumps({"s": store.pk + 999, "at": time.time() - 10}, salt=views_public._SALT)
    else:
        data["t"] = ""
    r = Client().post(url, data)
    assert r.status_code == 200 and b'name="mobile"' not in r.content
    assert not Lead.objects.exists()


@override_settings(AUTOCRM_LEAD_FORM_RATE="2/10m")
def test_rate_limit_per_ip_quietly_refuses(form):
    url, store = form
    client = Client()
    for i in range(4):
        send(client, url, store, mobile=f"1386666000{i}")
    assert Lead.objects.count() == 2


def test_person_mistakes_show_the_form_again(form):
    url, store = form
    r = send(Client(), url, store, name="x", mobile="")
    assert r.status_code == 400 and b"is-invalid" in r.content
    r = send(Client(), url, store, mobile="13866660000", message="a\x00b")
    assert r.status_code in (400,) and not Lead.objects.exists()
