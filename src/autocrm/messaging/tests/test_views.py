"""The messaging pages as a person uses them: status codes, what the page shows, what it hides,
and the query counts of the lists."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from autocrm.accounts.models import User
from autocrm.customers.services import consent_record
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.messaging import notifications, services_accounts
from autocrm.messaging.models import ChannelAccount, Message, MessageTemplate, Suppression
from autocrm.messaging.tests import fakes_settings  # noqa: F401  (test providers)


def client_for(username: str) -> Client:
    c = Client()
    c.force_login(User.objects.get(username=username))
    return c


@pytest.fixture
def manager_client(demo):
    return client_for("manager_a")


TEMPLATE_POST = {
    "code": "pickup_ready", "name": "提车通知", "purpose": "service", "channel": "sms", "language": "zh-hans",
    "body": "{customer_title}，您的爱车{plate}已完成保养。", "provider_template_id": "9001",
    "param_order": "customer_title, plate", "is_active": "on",
}  # fmt: skip


def test_template_create_edit_and_list(manager_client, django_assert_max_num_queries):
    r = manager_client.post(reverse("messaging:template_create"), TEMPLATE_POST)
    assert r.status_code == 302
    t = MessageTemplate.objects.get(code="pickup_ready")
    r = manager_client.post(
        reverse("messaging:template_edit", args=[t.pk]), {**TEMPLATE_POST, "body": "您好{nickname}"}
    )
    assert r.status_code == 400
    assert "{nickname}" in r.content.decode()
    t.refresh_from_db()
    assert "nickname" not in t.body
    with django_assert_max_num_queries(12):
        r = manager_client.get(reverse("messaging:template_list"))
    assert r.status_code == 200 and "提车通知" in r.content.decode()


def test_template_preview_with_customer_and_draft(manager_client):
    manager = actor_for("manager_a")
    t = MessageTemplate.objects.get(code="service_done", language="zh-hans", store_id=manager.store_id)
    customer = make_customer(manager, name="王芳", gender="female")
    r = manager_client.get(reverse("messaging:template_preview", args=[t.pk]), {"customer": customer.pk})
    assert r.status_code == 200 and "王女士" in r.content.decode()
    r = manager_client.get(reverse("messaging:template_preview", args=[t.pk]), {"q": "王芳"})
    assert f'data-customer="{customer.pk}"' in r.content.decode()
    r = manager_client.post(reverse("messaging:template_draft_preview"),
                            {"purpose": "service", "channel": "sms", "body": "{customer_title}优惠{nope}"})  # fmt: skip
    body = r.content.decode()
    assert r.status_code == 200 and "优惠" in body and "{nope}" in body and "preview-problems" in body


def test_other_stores_customer_is_not_previewed(manager_client):
    other = make_customer(actor_for("manager_b"), name="外店客户")
    t = MessageTemplate.objects.filter(store__code="a").first()
    r = manager_client.get(reverse("messaging:template_preview", args=[t.pk]), {"customer": other.pk})
    assert r.status_code == 404


def test_channel_settings_secret_never_shown_again(manager_client):
    r = manager_client.post(reverse("messaging:account_create"),
                            {"provider": "settings_test_sms", "secret_id": "AKIDvisible", "secret_key": "sk-hidden-42",
                             "is_default": "on"})  # fmt: skip
    assert r.status_code == 302
    account = ChannelAccount.objects.get(provider="settings_test_sms")
    page = manager_client.get(reverse("messaging:account_edit", args=[account.pk])).content.decode()
    assert "sk-hidden-42" not in page
    assert "AKIDvisible" in page
    assert "Saved — enter a new value to replace it." in page or "已保存" in page
    assert account.callback_secret in page  # the callback URL to copy
    settings_page = manager_client.get(reverse("messaging:channel_settings")).content.decode()
    assert "sk-hidden-42" not in settings_page
    # blank secret on save: kept
    r = manager_client.post(
        reverse("messaging:account_edit", args=[account.pk]), {"secret_id": "AKID2", "secret_key": ""}
    )
    assert r.status_code == 302
    account.refresh_from_db()
    assert services_accounts.secrets_of(account) == {"secret_key": "sk-hidden-42"}


def test_channel_settings_others_403(demo):
    for username in ("sales_a1", "marketing_a1", "advisor_a1"):
        c = client_for(username)
        assert c.get(reverse("messaging:channel_settings")).status_code == 403
        assert c.post(reverse("messaging:channel_settings"), {"marketing_weekly_cap": 9}).status_code == 403
    assert client_for("director").post(reverse("messaging:channel_settings"), {}).status_code == 403


def test_sending_rules_saved_and_bad_input_400(manager_client):
    url = reverse("messaging:channel_settings")
    ok = {"window_start": "09:00", "window_end": "21:00", "marketing_weekly_cap": 3, "unsubscribe_text": "回T退订",
          "sms_signature": "锦江"}  # fmt: skip
    assert manager_client.post(url, ok).status_code == 302
    r = manager_client.post(url, {**ok, "window_end": "08:00"})
    assert r.status_code == 400
    assert services_accounts.settings_for(actor_for("manager_a").store_id).window_end.hour == 21


def test_bell_inbox_mark_read(demo, django_assert_max_num_queries):
    sales = actor_for("sales_a1")
    for i in range(3):
        notifications.notify_staff(user=sales.user, kind="escalated", title=f"升级 {i}", store=sales.store_id,
                                   link="/customers/")  # fmt: skip
    c = client_for("sales_a1")
    with django_assert_max_num_queries(8):  # the request's own (session, user, memberships, modules) + one count
        r = c.get(reverse("messaging:bell"))
    assert 'data-testid="bell-count">3<' in r.content.decode()
    home = c.get("/").content.decode()
    assert reverse("messaging:bell") in home  # the bell is in the top bar
    with django_assert_max_num_queries(12):
        page = c.get(reverse("messaging:inbox"))
    assert page.status_code == 200 and "升级 2" in page.content.decode()
    note = notifications.notification_page(actor=sales).items[0]
    r = c.post(reverse("messaging:notification_read", args=[note.pk]), {"open": "1"})
    assert r.status_code == 302 and r["Location"] == "/customers/"
    assert notifications.unread_count(actor=sales) == 2
    # someone else's notification: 404
    assert client_for("sales_a2").post(reverse("messaging:notification_read", args=[note.pk])).status_code == 404
    c.post(reverse("messaging:notification_read_all"))
    assert notifications.unread_count(actor=sales) == 0


def test_preferences_page(demo):
    c = client_for("sales_a1")
    assert c.get(reverse("messaging:preferences")).status_code == 200
    r = c.post(reverse("messaging:preferences"), {"wecom_userid": "zhangsan", "k-*-inbox": "1", "k-*-wecom": "1",
                                                   "k-leads.assigned-inbox": "1", "k-leads.assigned-digest": "1",
                                                   "k-sla.breach-inbox": "1", "k-escalated-inbox": "1",
                                                   "k-messaging.failed-inbox": "1",
                                                   "k-messaging.channel_error-inbox": "1",
                                                   # every other module's kinds keep their inbox
                                                   **{f"k-{k.kind}-inbox": "1" for k in notifications.KINDS.entries()
                                                      if k.kind not in {"leads.assigned", "sla.breach", "escalated",
                                                                        "messaging.failed", "messaging.channel_error"}}})  # fmt: skip
    assert r.status_code == 302
    choice = notifications.preference_for(actor_for("sales_a1").user_id, "leads.assigned")
    assert choice.digest and not choice.wecom and choice.wecom_userid == "zhangsan"


def test_suppression_pages(manager_client, django_assert_max_num_queries):
    r = manager_client.post(reverse("messaging:suppression_create"), {"channel": "sms", "address": "13812345678"})
    assert r.status_code == 302
    r = manager_client.post(reverse("messaging:suppression_create"), {"channel": "sms", "address": "123"})
    assert r.status_code == 400
    with django_assert_max_num_queries(12):
        page = manager_client.get(reverse("messaging:suppression_list"))
    assert "138****5678" in page.content.decode() and "13812345678" not in page.content.decode()
    row = Suppression.objects.get()
    assert manager_client.post(reverse("messaging:suppression_lift", args=[row.pk])).status_code == 302
    row.refresh_from_db()
    assert row.lifted_at is not None


def _queue(actor, customer, code="service_done", purpose="service", key="k1"):
    from autocrm.messaging.services import message_queue

    t = MessageTemplate.objects.get(store_id=actor.store_id, code=code, language="zh-hans")
    return message_queue(actor=actor, store=actor.store_id, purpose=purpose, channel="sms", template=t,
                         customer=customer, values={"plate": "川A12345"}, idempotency_key=key)  # fmt: skip


def test_message_log_filters_detail_and_panel(manager_client, django_assert_max_num_queries):
    manager = actor_for("manager_a")
    customer = make_customer(manager, name="刘萍平", mobile="13812345678")
    consent_record(actor=manager, customer=customer, purpose="service", channel="sms")
    for i in range(5):
        _queue(manager, customer, key=f"k{i}")
    with django_assert_max_num_queries(12):
        r = manager_client.get(reverse("messaging:message_list"), {"customer": customer.pk, "channel": "sms"})
    assert r.status_code == 200 and r.content.decode().count("data-message=") == 5
    r = manager_client.get(reverse("messaging:message_list"), {"status": "bogus"})
    assert r.status_code == 200  # a bad filter is a message, not an error page
    m = Message.objects.filter(customer=customer).first()
    r = manager_client.get(reverse("messaging:message_detail", args=[m.uid]))
    assert r.status_code == 200 and m.uid in r.content.decode()
    detail = manager_client.get(reverse("customers:customer_detail", args=[customer.pk])).content.decode()
    assert reverse("messaging:customer_messages_part", args=[customer.pk]) in detail
    with django_assert_max_num_queries(14):
        part = manager_client.get(reverse("messaging:customer_messages_part", args=[customer.pk]))
    assert part.content.decode().count("data-message=") == 5


def test_send_from_the_360_page_is_one_message_per_form(manager_client):
    manager = actor_for("manager_a")
    customer = make_customer(manager, name="刘萍平", mobile="13812345678")
    t = MessageTemplate.objects.get(store_id=manager.store_id, code="service_done", language="zh-hans")
    url = reverse("messaging:message_send", args=[customer.pk])
    assert manager_client.get(url).status_code == 200
    post = {"template": t.pk, "idempotency_key": "a" * 32}
    assert manager_client.post(url, post).status_code == 302
    assert manager_client.post(url, post).status_code == 302  # the double submit
    assert Message.objects.filter(customer=customer).count() == 1
    r = manager_client.post(url, {"template": 987654, "idempotency_key": "b" * 32})
    assert r.status_code == 400


def test_send_of_a_customer_out_of_scope_is_404(demo):
    colleague = actor_for("sales_a2")
    customer = make_customer(colleague, name="李雷", consultant_id=colleague.user_id)
    assert client_for("sales_a1").get(reverse("messaging:message_send", args=[customer.pk])).status_code == 404


def test_pages_work_at_390px_markup(manager_client):
    # the tables scroll inside their card at phone width (Tabler's table-responsive)
    for name in ("messaging:template_list", "messaging:message_list", "messaging:suppression_list"):
        assert "table-responsive" in manager_client.get(reverse(name)).content.decode()
