"""The outbox with the real provider clients (not the test double) against the local fakes that
check what the providers check: a Tencent SMS goes out signed with TC3, its receipt comes back
through our callback endpoint and marks it delivered; a forged receipt changes nothing; a reply "R"
withdraws marketing consent; the WeChat server check (GET echostr) is answered through the same
endpoint, and a forged or stale check is refused."""

from __future__ import annotations

import json
import time

import pytest

from autocrm.channels.testing.servers import FakeTencentSms
from autocrm.channels.testing.wechat_servers import FakeWeixin, signed_query
from autocrm.messaging import outbox
from autocrm.messaging.models import ChannelAccount, Message, MessageAttempt
from autocrm.messaging.services import message_queue


def _account(store, provider, channel, config, secret_names, endpoint, callback_secret):
    public = {k: v for k, v in config.items() if k not in secret_names}
    secret = {k: v for k, v in config.items() if k in secret_names}
    return ChannelAccount.objects.create(
        store=store, provider=provider, channel=channel, public_config=public, secret_config=json.dumps(secret),
        callback_secret=callback_secret, endpoint=endpoint, is_default=True,
    )  # fmt: skip


def _queue(manager, customer, key="repair-done:1"):
    return message_queue(
        actor=manager, store=customer.store_id, purpose="service", channel="sms", template_code="repair_done",
        customer=customer, values={"customer_name": "刘女士", "plate": "川A12345"}, idempotency_key=key,
    )  # fmt: skip


@pytest.fixture
def tencent(store_a):
    with FakeTencentSms(receipts="manual", templates=["1001"]) as fake:
        account = _account(
            store_a, "tencent_sms", "sms", fake.client_config(), {"secret_key"}, fake.url, "cb-secret-tencent"
        )
        yield fake, account


def test_a_tencent_sms_is_signed_accepted_and_its_receipt_marks_it_delivered(
    client, manager, customer, templates, tencent
):
    fake, account = tencent
    message = _queue(manager, customer)
    assert outbox.deliver(message.pk).kind == "sent"
    message.refresh_from_db()
    accepted = fake.accepted(message.uid)  # the fake verified the TC3 signature to accept it
    assert accepted is not None and accepted.provider_id == message.provider_id
    assert accepted.phone == "+8613812345678" and list(accepted.params) == ["刘女士", "川A12345"]

    fake.deliver(message.uid)
    body = fake.receipt_push([fake.accepted(message.uid)])
    url = f"/api/v1/channels/tencent_sms/callback?account={account.pk}&secret=cb-secret-tencent"
    forged = f"/api/v1/channels/tencent_sms/callback?account={account.pk}&secret=guess"
    assert client.post(forged, body, content_type="application/json").status_code == 403
    message.refresh_from_db()
    assert message.status == "sent"  # a forged receipt changed nothing
    for _ in range(2):  # the provider retries a push it thinks we missed
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 200 and response.json() == {"result": 0, "errmsg": "OK"}
    message.refresh_from_db()
    assert message.status == "delivered"
    assert MessageAttempt.objects.filter(message=message, outcome="receipt").count() == 1


def test_a_tencent_reply_r_withdraws_marketing_consent(client, manager, customer, templates, tencent):
    from autocrm.customers.services import consent_allows, consent_record

    fake, account = tencent
    consent_record(actor=manager, customer=customer, purpose="marketing", channel="sms")
    assert consent_allows(customer=customer, purpose="marketing", channel="sms")
    body = fake.reply_push("+8613812345678", "R")
    url = f"/api/v1/channels/tencent_sms/callback?account={account.pk}&secret=cb-secret-tencent"
    assert client.post(url, body, content_type="application/json").status_code == 200
    assert not consent_allows(customer=customer, purpose="marketing", channel="sms")


@pytest.fixture
def weixin(store_a):
    with FakeWeixin(apps={"wx5823bf96d3bd56c7": "app-secret"}) as fake:
        account = ChannelAccount.objects.create(
            store=store_a, provider="wechat_oa", channel="wechat", public_config={"app_id": "wx5823bf96d3bd56c7"},
            secret_config=json.dumps({"app_secret": "app-secret"}), callback_secret="push-token",
            endpoint=fake.url, is_default=True,
        )  # fmt: skip
        yield fake, account


def test_the_wechat_server_check_is_answered_and_a_forged_or_stale_one_refused(client, weixin):
    _fake, account = weixin
    url = "/api/v1/channels/wechat_oa/callback"
    query = signed_query("push-token", account=str(account.pk))
    answer = client.get(url, {**query, "echostr": "7341276915"})
    assert answer.status_code == 200 and answer.content == b"7341276915", answer.content
    forged = {**query, "signature": "0" * 40}
    assert client.get(url, {**forged, "echostr": "7341276915"}).status_code == 403
    stale = signed_query("push-token", timestamp=int(time.time()) - 3600, account=str(account.pk))
    assert client.get(url, {**stale, "echostr": "1"}).status_code == 403
    assert not Message.objects.exists()
