"""Care on the customer 360 page: a lazy part (nothing on the first paint) with the open
complaints (deadline, escalation level), the latest calls and survey scores, "raise a complaint";
scoped exactly like the page, in a fixed number of queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.care import services

from .factories import actor_for, close_repair_order, make_car

pytestmark = pytest.mark.django_db


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _complaint(customer, text="等了三个小时"):
    return services.complaint_create(actor=actor_for("agent_a1", "a"), data={
        "customer": customer.pk, "channel": "phone", "category": "waiting", "severity": "medium",
        "department": "aftersales", "description": text})  # fmt: skip


def _queries(client, url):
    client.get(url, HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as q:
        response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return len(q), response.content.decode()


def test_the_care_part_shows_complaints_calls_and_scores_in_scope(demo):
    customer, vehicle = make_car(actor_for("advisor_a1", "a"))
    close_repair_order(customer.store_id, customer, vehicle)
    complaint = _complaint(customer)
    url = reverse("care:customer_part", args=[customer.pk])
    agent = login("agent_a1")
    page = agent.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert url in page and complaint.number not in page  # lazy: not on the first paint
    before, part = _queries(agent, url)
    assert complaint.number in part and 'data-testid="care-followups"' in part
    assert reverse("care:complaint_create") + f"?customer={customer.pk}" in part  # raise a complaint
    for i in range(5):
        _complaint(customer, f"第{i}次投诉")
    after, _part = _queries(agent, url)
    assert after == before <= 14  # no query per row
    # another store's staff: the same 404 as the page; a technician: no care part at all
    for username in ("agent_b1", "manager_b", "advisor_b1"):
        assert login(username).get(url).status_code == 404, username
    tech = login("tech_a1")
    assert url not in tech.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert complaint.number not in tech.get(url).content.decode()


def test_a_colleagues_customer_the_advisor_may_not_see_is_not_found(demo):
    customer, _v = make_car(actor_for("sales_a1", "a"))
    url = reverse("care:customer_part", args=[customer.pk])
    page = login("sales_a2").get(reverse("customers:customer_detail", args=[customer.pk]))
    assert login("sales_a2").get(url).status_code == page.status_code
