from __future__ import annotations

import datetime as dt

import pytest

from autocrm.customers.services import consent_record
from autocrm.customers.tests.factories import actor_for, make_customer
from autocrm.messaging.models import ChannelAccount, MessageTemplate
from autocrm.messaging.tests.fakes import MemoryClient
from autocrm.tenancy.models import Store

#: 10:00 in Shanghai on a Tuesday (in the future: messages queued now are due by then).
NOON = dt.datetime(2027, 1, 5, 2, 0, tzinfo=dt.UTC)
#: 22:30 in Shanghai the same day: outside the marketing window.
NIGHT = dt.datetime(2027, 1, 5, 14, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _memory_reset():
    MemoryClient.reset()
    from autocrm.messaging import outbox

    outbox.clients_close()
    yield
    MemoryClient.reset()
    outbox.clients_close()


@pytest.fixture
def manager(demo):
    return actor_for("manager_a", "a")


@pytest.fixture
def store_a(demo):
    return Store.objects.get(code="a")


@pytest.fixture
def sms_account(store_a):
    return ChannelAccount.objects.create(
        store=store_a, provider="test_memory", channel="sms", name="mem", callback_secret="s3cret"
    )


@pytest.fixture
def templates(store_a):
    service = MessageTemplate.objects.create(
        store=store_a, code="repair_done", name="Repair done", purpose="service", channel="sms",
        body="{customer_name}您好，您的车{plate}已修好。", provider_template_id="1001",
        param_order=["customer_name", "plate"],
    )  # fmt: skip
    marketing = MessageTemplate.objects.create(
        store=store_a, code="winter_check", name="Winter check", purpose="marketing", channel="sms",
        body="{customer_name}您好，冬季免费检测开始了。", provider_template_id="1002", param_order=["customer_name"],
    )  # fmt: skip
    return {"service": service, "marketing": marketing}


@pytest.fixture
def customer(manager):
    c = make_customer(manager, name="刘萍平", mobile="13812345678")
    for purpose in ("service", "marketing", "survey"):
        consent_record(actor=manager, customer=c, purpose=purpose, channel="sms", source="test")
    return c
