"""The outbox in the inherited role × scope matrix (autocrm.core.testing): the message log and
one message (with its attempts) as every role, on a message to the actor's own customer, to a
colleague's customer, to another store's, and a missing one; sending a service notice."""

from __future__ import annotations

import itertools
import uuid
from types import SimpleNamespace

from autocrm.core.testing import ACTOR_OF_ROLE, MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.messaging.models import Message, MessageTemplate

M, C = "messaging.message", "customers.customer"
_serial = itertools.count(1)


def build_message(store, owner):
    """A message to a customer of ``owner`` (the matrix addresses messages by their uid)."""
    customer = Customer.objects.create(
        store=store, name="矩阵客户", consultant=owner, mobile=f"1371{next(_serial):07d}"
    )
    message = Message.objects.create(
        store=store, uid=uuid.uuid4().hex, idempotency_key=f"matrix:{next(_serial)}", customer=customer,
        purpose="service", channel="sms", status="sent",
    )  # fmt: skip
    return SimpleNamespace(pk=message.uid)


def new_send(world, role):
    store = world.stores["a"]
    MessageTemplate.objects.get_or_create(
        store=store, code="matrix_notice", channel="sms", language="zh-hans",
        defaults={"name": "Matrix", "purpose": "service", "body": "{customer_name}您好。",
                  "provider_template_id": "1", "param_order": ["customer_name"]},
    )  # fmt: skip
    customer = Customer.objects.create(store=store, name="矩阵客户", consultant=world.users[ACTOR_OF_ROLE[role]],
                                       mobile=f"1371{next(_serial):07d}")  # fmt: skip
    return {"customer": customer.pk, "template_code": "matrix_notice", "purpose": "service", "channel": "sms",
            "values": {"customer_name": "x"}, "idempotency_key": f"matrix-send:{next(_serial)}"}  # fmt: skip


class TestMessagingMultistore(MultistoreMatrix):
    builders = {M: build_message}
    namespaces = ["shortlinks"]
    api_prefixes = ["/messages", "/channels"]
    ops = [
        Op("/messages", M, "view", api=True, record=False),
        Op("/messages/{pk}", M, "view", api=True),
        Op(
            "/messages",
            M,
            "send_service",
            api=True,
            record=False,
            method="POST",
            ok=201,
            data=new_send,
            also_needs=((M, "view"), (C, "view")),
        ),
    ]
    exempt = {
        "shortlinks:shortlink": "public: the customer clicks it without an account (test_api)",
        "POST /api/v1/channels/{provider}/callback": "a provider's push: no user, the account's secret (test_api)",
        "GET /api/v1/channels/{provider}/callback": "WeChat's server check: no user, the account's token (test_api)",
    }
