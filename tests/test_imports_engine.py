"""A module that is not customers nor vehicles imports and exports through the shared engine
with nothing but its Importer and Exporter (tests/testapp/importing.py): the same upload page,
mapping, dry-run report, commit modes and API."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from testapp.models import Ticket

from autocrm.accounts.models import User
from autocrm.accounts.services import token_issue_session
from autocrm.audit.models import AuditEvent
from autocrm.core import events
from autocrm.imports.events import IMPORT_COMMITTED, ImportCommitted
from autocrm.imports.models import ImportJob


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def tickets_csv(rows, header=("标题", "手机号", "成本价")):
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    return SimpleUploadedFile("tickets.csv", text.encode("gbk"), content_type="text/csv")


ROWS = [
    ("更换机油", "13812345678", "120.50"),
    ("", "13900001111", "80"),  # row 3: no title
    ("轮胎换位", "138 1234 5678", ""),  # row 4: row 2's mobile
    ("检查刹车", "", "abc"),  # row 5: not a number
    ("洗车", "13700002222", ""),
]


def test_a_new_kind_imports_end_to_end_through_the_pages(demo):
    client = Client()
    client.force_login(User.objects.get(username="manager_a"))
    page = client.get("/imports/").content.decode()
    assert '<option value="tickets">工单</option>' in page  # offered beside customers and vehicles
    assert 'data-testid="export-tickets"' in page

    r = client.post("/imports/", {"file": tickets_csv(ROWS), "kind": "tickets"})
    assert r.status_code == 302
    detail = r["Location"]
    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.total_rows, job.bad_rows) == ("tickets", "checked", 5, 3)
    assert job.mapping["columns"] == {"title": 0, "mobile": 1, "cost_price": 2}  # from the Chinese header
    page = client.get(detail).content.decode()
    for row, name in ((3, "title"), (4, "mobile"), (5, "cost_price")):
        assert f'data-row="{row}" data-field="{name}"' in page
    repeat = next(e["message"] for e in job.report["errors"] if e["field"] == "mobile")
    assert repeat in page and "2" in repeat  # in the uploader's language: the same mobile as row 2
    assert not Ticket.objects.exists()  # the dry run wrote nothing

    client.post(detail, {"action": "commit", "mode": "all"})
    assert not Ticket.objects.exists()  # all or nothing: three bad rows, nothing written
    r = client.post(detail, {"action": "commit", "mode": "valid_only"}, follow=True)
    assert 'data-testid="import-result"' in r.content.decode()
    tickets = list(Ticket.objects.order_by("id"))
    assert [(t.title, t.mobile, str(t.cost_price)) for t in tickets] == [
        ("更换机油", "+8613812345678", "120.50"),
        ("洗车", "+8613700002222", "0.00"),
    ]
    manager = User.objects.get(username="manager_a")
    assert {t.owner_id for t in tickets} == {manager.pk} and {t.store.code for t in tickets} == {"a"}
    assert Ticket.objects.filter(mobile_index=tickets[0].mobile_index).count() == 1  # blind index written
    event = AuditEvent.objects.get(action="import")
    assert event.extra.items() >= {"kind": "tickets", "created": 2, "skipped": 3}.items()

    # The shared export writes the new kind too, masked.
    r = client.get("/imports/export/tickets/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode()[1:])))
    assert rows[1:] == [["更换机油", "138****5678"], ["洗车", "137****2222"]]


def bearer(username):
    _, secret = token_issue_session(user=User.objects.get(username=username))
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_a_new_kind_through_the_api(demo):
    client, auth = Client(), bearer("manager_a")
    r = client.post("/api/v1/customers/imports", {"file": tickets_csv(ROWS[:1]), "kind": "tickets"}, **auth)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["kind"], body["status"], body["bad_rows"]) == ("tickets", "checked", 0)
    with events.capture() as seen:
        r = client.post(f"/api/v1/customers/imports/{body['id']}/commit", {}, content_type="application/json", **auth)
    assert r.status_code == 200 and r.json()["created_count"] == 1
    assert Ticket.objects.get().title == "更换机油"
    # Subscribers (analytics, care…) hear of the written file after commit, with its counts.
    assert seen.of(IMPORT_COMMITTED) == [ImportCommitted(job_id=body["id"], kind="tickets", created=1, updated=0)]
    # An unknown kind is a 400 naming the field, listing the kinds there are; nothing is stored.
    r = client.post("/api/v1/customers/imports", {"file": tickets_csv(ROWS[:1]), "kind": "parts"}, **auth)
    assert r.status_code == 400 and "工单" in r.json()["fields"]["kind"][0]
    assert ImportJob.objects.count() == 1
    # Importing tickets needs the import right as well as the right to add tickets.
    sales = bearer("sales_a1")  # may add tickets, may not import
    r = client.post("/api/v1/customers/imports", {"file": tickets_csv(ROWS[:1]), "kind": "tickets"}, **sales)
    assert r.status_code == 403 and Ticket.objects.count() == 1


def test_each_role_is_offered_only_the_kinds_it_may_import_and_export(demo):
    client = Client()
    client.force_login(User.objects.get(username="marketing_a1"))  # exports customers, imports nothing
    page = client.get("/imports/").content.decode()
    assert 'data-testid="export-customers"' in page and 'data-testid="export-tickets"' not in page
    assert 'id="import-upload"' not in page
    client.force_login(User.objects.get(username="advisor_a1"))  # imports its own jobs, exports nothing
    page = client.get("/imports/").content.decode()
    # … and the due list of its store (maintenance), not the customers
    assert 'id="import-upload"' in page and 'value="customers"' in page and 'data-testid="export-customers"' not in page
    client.force_login(User.objects.get(username="sales_a1"))  # neither
    assert client.get("/imports/").status_code == 403
