"""h/msgui's messaging pages and /api/v1/templates in the inherited role × scope matrix
(autocrm.core.testing): every page and operation as every role, on the actor's own record, a
colleague's, another store's and a missing one."""

from __future__ import annotations

import itertools
import secrets

from autocrm.core.testing import MISSING_PK, MultistoreMatrix, Op
from autocrm.customers.models import Customer
from autocrm.messaging.models import ChannelAccount, Message, MessageTemplate, StaffNotification, Suppression
from autocrm.messaging.tests import fakes_settings  # noqa: F401  (the provider the account pages show)

T, A, S = "messaging.messagetemplate", "messaging.channelaccount", "messaging.suppression"
N, M, C = "messaging.staffnotification", "messaging.message", "customers.customer"
_serial = itertools.count(1)


def build_template(store, owner):
    n = next(_serial)
    return MessageTemplate.objects.create(
        store=store, code=f"matrix_{n}", name="矩阵模板", purpose="service", channel="console",
        body="{customer_name}您好",
    )  # fmt: skip


def build_account(store, owner):
    return ChannelAccount.objects.create(
        store=store, provider="settings_test_sms", channel="sms", is_default=False, callback_secret="cb",
        public_config={"secret_id": "A"},
    )  # fmt: skip


def build_suppression(store, owner):
    return Suppression.objects.create(
        store=store, channel="sms", address=f"+86137{next(_serial):08d}", address_display="137****", reason="manual"
    )


def build_notification(store, owner):
    return StaffNotification.objects.create(store=store, user=owner, kind="escalated", title="矩阵通知")


def build_customer(store, owner):
    return Customer.objects.create(store=store, name="矩阵客户", consultant=owner, mobile=f"1370{next(_serial):07d}")


def build_message(store, owner):
    return Message.objects.create(
        store=store, uid=secrets.token_hex(16), idempotency_key=f"matrix:{next(_serial)}",
        customer=build_customer(store, owner), purpose="service", channel="sms", text="矩阵",
    )  # fmt: skip


def new_template(world, role):
    return {"code": f"api_matrix_{next(_serial)}", "name": "x", "purpose": "service", "channel": "console",
            "body": "{customer_name}您好"}  # fmt: skip


class TestMessagingPagesMultistore(MultistoreMatrix):
    builders = {
        T: build_template, A: build_account, S: build_suppression, N: build_notification, C: build_customer,
        M: build_message,
    }  # fmt: skip
    namespaces = ["messaging"]
    api_prefixes = ["/templates"]
    ops = [
        Op("messaging:message_list", M, "view", record=False),
        Op("messaging:message_detail", M, "view", gate=True),  # h/msgcore's message_get refuses first
        Op("messaging:message_send", C, "view", also_needs=((T, "view"),)),
        Op("messaging:customer_messages_part", C, "view", also_needs=((M, "view"),)),
        Op("messaging:template_list", T, "view", record=False),
        Op("messaging:template_create", T, "add", record=False),
        Op("messaging:template_draft_preview", T, "view", record=False, method="POST",
           data={"purpose": "service", "channel": "sms", "body": "{customer_name}"}),
        Op("messaging:template_edit", T, "view"),
        Op("messaging:template_preview", T, "view"),
        Op("messaging:template_delete", T, "delete", method="POST", ok=302, fresh=True),
        Op("messaging:channel_settings", A, "view", record=False),
        Op("messaging:account_create", A, "add", record=False, data={"provider": "settings_test_sms"}),
        Op("messaging:account_edit", A, "view"),
        Op("messaging:account_test", A, "change", method="POST", ok=400),
        Op("messaging:account_callback_secret", A, "change", method="POST", ok=302, fresh=True),
        Op("messaging:account_deactivate", A, "change", method="POST", ok=302, fresh=True),
        Op("messaging:suppression_list", S, "view", record=False),
        Op("messaging:suppression_create", S, "add", record=False, method="POST", ok=400),
        Op("messaging:suppression_lift", S, "change", method="POST", ok=302, fresh=True),
        Op("messaging:inbox", N, "view", record=False),
        Op("messaging:bell", N, "view", record=False),
        Op("messaging:preferences", N, "view", record=False),
        Op("messaging:notification_read_all", N, "change", record=False, method="POST", ok=302),
        Op("messaging:notification_read", N, "change", method="POST", ok=302, fresh=True),
        Op("/templates", T, "view", api=True, record=False),
        Op("/templates", T, "add", api=True, record=False, method="POST", ok=201, data=new_template),
        Op("/templates/{pk}", T, "view", api=True),
        Op("/templates/{pk}", T, "change", api=True, method="PATCH", data={"name": "改名"}),
    ]  # fmt: skip

    def url(self, op, pk):
        if op.target == "messaging:message_detail":
            from django.urls import reverse

            uid = "0" * 32 if pk == MISSING_PK else Message.objects.get(pk=pk).uid
            return reverse(op.target, args=[uid])
        return super().url(op, pk)
