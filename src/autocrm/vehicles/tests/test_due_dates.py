"""Due dates: an ended warranty is shown as ended, never as a reminder; only dates from today
(in Asia/Shanghai) up to the reminder window are due; a missed insurance or inspection stays
overdue. Pages: the 360 vehicle panel, the vehicle detail and the vehicle list."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.vehicles.panels import SOON_DAYS, due_status
from autocrm.vehicles.services import vehicle_create

VIN = "LSJA24U62JG269225"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# 16:30 UTC on 1 December is 00:30 on 2 December in Shanghai: "today" is the 2nd there, while
# the UTC date is still the 1st. Every date below is read against the Shanghai day.
NOW = dt.datetime(2026, 12, 1, 16, 30, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 2)


def test_status_around_today():
    today = TODAY
    day = dt.timedelta(days=1)
    assert due_status(today - day, today, past="ended") == "ended"
    assert due_status(today - day, today) == "overdue"
    assert due_status(today, today, past="ended") == "soon"  # the last day of a warranty is still in it
    assert due_status(today + dt.timedelta(days=SOON_DAYS), today) == "soon"
    assert due_status(today + dt.timedelta(days=SOON_DAYS + 1), today) == ""
    assert due_status(None, today) == ""


@pytest.fixture
def shanghai_after_midnight(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    assert timezone.localdate() == TODAY and NOW.astimezone(SHANGHAI).date() == TODAY
    assert NOW.date() == TODAY - dt.timedelta(days=1)


@pytest.fixture
def vehicle(demo, shanghai_after_midnight):
    actor = actor_for("sales_a1", "a")
    customer = make_customer(actor, name="张伟", mobile="13812345678")
    return vehicle_create(
        actor=actor,
        customer=customer,
        data={
            "vin": VIN,
            "plate": "沪AD12345",
            "warranty_end": "2026-12-01",  # ended yesterday in Shanghai (still "today" in UTC)
            "extended_warranty_end": "2026-12-02",  # ends today: still in force, due
            "insurance_expiry": "2026-12-01",  # missed renewal: overdue
            "inspection_due": (TODAY + dt.timedelta(days=SOON_DAYS + 1)).isoformat(),  # beyond the window
        },
    )


def _statuses(body: str) -> dict[str, str]:
    return dict(re.findall(r'data-due="(\w+)" data-status="(\w+)"', body))


@pytest.mark.parametrize("page", ["customer", "vehicle"])
def test_an_ended_warranty_is_shown_as_ended_not_as_a_reminder(client, vehicle, page):
    client.force_login(User.objects.get(username="sales_a1"))
    if page == "customer":
        url = reverse("customers:customer_detail", args=[vehicle.customer_id])
    else:
        url = reverse("vehicles:vehicle_detail", args=[vehicle.pk])
    body = client.get(url).content.decode()

    assert _statuses(body) == {
        "warranty_end": "ended",
        "extended_warranty_end": "soon",
        "insurance_expiry": "overdue",
        "inspection_due": "ok",
    }
    assert "已结束" in body or "ended" in body


def test_the_vehicle_list_shows_only_reminders(client, vehicle):
    client.force_login(User.objects.get(username="sales_a1"))
    body = client.get(reverse("vehicles:vehicle_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = body[body.index(f'data-vehicle-id="{vehicle.pk}"') :]
    row = row[: row.index("</tr>")]

    assert "2026-12-02" in row and "2026-12-01" in row  # extended warranty due, insurance overdue
    assert row.count('class="badge') == 2  # the ended warranty and the far inspection are not reminders
