"""Conversation records (issue 13, item 6c): call recordings and chat excerpts on a lead's
activities, uploaded on the lead page or posted by a call centre with the lead's mobile, played
through the lead's own authorised view."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.customers.tests.factories import actor_for
from autocrm.customers.tests.test_api import bearer
from autocrm.leads.models import ConversationRecord, Lead, LeadActivity

MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + b"\x00" * 400
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200


@pytest.fixture
def sales(demo):
    return actor_for("sales_a1")


def login(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _lead(actor, mobile="13822223333"):
    return Lead.objects.create(store_id=actor.store_id, consultant=actor.user, name="吴迪", mobile=mobile)


def test_recording_uploaded_on_the_lead_page_plays_for_its_readers_only(sales):
    lead = _lead(sales)
    client = login("sales_a1")
    r = client.post(reverse("leads:record_add", args=[lead.pk]),
                    {"kind": "recording", "file": SimpleUploadedFile("call.mp3", MP3)})  # fmt: skip
    assert r.status_code == 302
    record = ConversationRecord.objects.get(lead=lead)
    assert record.content_type == "audio/mpeg" and record.activity.kind == "call"
    lead.refresh_from_db()
    assert lead.first_contact_at is not None  # the recorded call is a contact
    page = client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    url = reverse("leads:record_file", args=[lead.pk, record.pk])
    assert f'<audio controls preload="none" class="w-100" src="{url}"' in page
    played = client.get(url)
    assert played.status_code == 200 and played["Content-Type"] == "audio/mpeg"
    assert b"".join(played.streaming_content) == MP3
    assert played["Cache-Control"] == "private, no-store"
    assert login("sales_a2").get(url).status_code == 404  # a colleague's lead
    assert login("sales_manager_a").get(url).status_code == 200
    assert Client().get(url).status_code == 302  # never public: the sign-in page


def test_chat_excerpt_on_an_existing_activity_and_bad_files_refused(sales):
    lead = _lead(sales)
    client = login("sales_a1")
    client.post(reverse("leads:lead_activity", args=[lead.pk]), {"kind": "wechat", "note": "加了微信"})
    activity = LeadActivity.objects.get(lead=lead, kind="wechat")
    client.post(reverse("leads:record_add", args=[lead.pk]),
                {"kind": "chat", "activity": activity.pk, "text": "客户：落地价多少？\n我：¥189,800 含保险"})  # fmt: skip
    record = ConversationRecord.objects.get(lead=lead)
    assert record.activity_id == activity.pk and "落地价" in record.text
    assert "落地价多少" in client.get(reverse("leads:lead_detail", args=[lead.pk])).content.decode()
    for data in ({"kind": "recording", "file": SimpleUploadedFile("x.mp3", b"#!/bin/sh\nrm -rf /\n" * 4)},
                 {"kind": "chat", "text": ""}, {"kind": "video"}):  # fmt: skip
        assert client.post(reverse("leads:record_add", args=[lead.pk]), data).status_code == 302
    assert ConversationRecord.objects.filter(lead=lead).count() == 1


def test_call_centre_posts_a_recording_by_mobile(sales):
    lead = _lead(sales, mobile="13833334444")
    client = Client()
    data = {"mobile": "+86 138 3333 4444", "external_id": "cc-call-1", "duration_seconds": "95",
            "at": "2026-11-30T10:15:00+08:00", "file": SimpleUploadedFile("rec.wav", WAV)}  # fmt: skip
    r = client.post("/api/v1/lead-activities/recordings", data, **bearer("sales_manager_a"))
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["lead"], body["kind"], body["content_type"], body["duration_seconds"]) == (
        lead.pk, "recording", "audio/wav", 95)  # fmt: skip
    again = client.post("/api/v1/lead-activities/recordings", {**data, "file": SimpleUploadedFile("rec.wav", WAV)},
                        **bearer("sales_manager_a"))  # fmt: skip
    assert again.status_code == 201 and again.json()["id"] == body["id"]  # idempotent by the call's id
    assert LeadActivity.objects.filter(lead=lead, kind="call").count() == 1
    missing = client.post("/api/v1/lead-activities/recordings",
                          {"mobile": "13900000001", "file": SimpleUploadedFile("r.wav", WAV)},
                          **bearer("sales_manager_a"))  # fmt: skip
    assert missing.status_code == 404 and "mobile" in missing.json()["fields"]
    # a consultant reaches only their own leads; another store's token never
    other = client.post(
        "/api/v1/lead-activities/recordings",
        {"mobile": "13833334444", "file": SimpleUploadedFile("r.wav", WAV)},
        **bearer("sales_a2"),
    )
    assert other.status_code == 404
    assert client.post("/api/v1/lead-activities/recordings",
                       {"mobile": "13833334444", "file": SimpleUploadedFile("r.wav", WAV)},
                       **bearer("sales_manager_b")).status_code == 404  # fmt: skip
    bad = client.post("/api/v1/lead-activities/recordings",
                      {"mobile": "13833334444", "file": SimpleUploadedFile("r.mp3", b"%PDF-1.4 not audio" * 3)},
                      **bearer("sales_manager_a"))  # fmt: skip
    assert bad.status_code == 400 and "file" in bad.json()["fields"]


def test_chat_over_the_api_on_the_lead(sales):
    lead = _lead(sales, mobile="13844445555")
    client = Client()
    r = client.post(f"/api/v1/leads/{lead.pk}/conversation-records", {"kind": "chat", "text": "客户问现车"},
                    **bearer("sales_a1"))  # fmt: skip
    assert r.status_code == 201 and r.json()["text"] == "客户问现车"
    assert client.post(f"/api/v1/leads/{lead.pk}/conversation-records", {"kind": "chat", "text": "x"},
                       **bearer("sales_a2")).status_code == 404  # fmt: skip
    assert client.post(f"/api/v1/leads/{lead.pk}/conversation-records", {"kind": "chat", "text": "x"},
                       **bearer("director")).status_code == 403  # fmt: skip
