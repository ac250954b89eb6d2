"""Demo messaging per store: the sending rules, a console account for SMS, email and WeCom (so
that ``make run`` shows every message in the console channel's file without any provider; not
marked default, so any provider account the manager adds for the channel takes over), and
the templates the first modules send by — appointment reminder, service done, maintenance due,
survey link, login code and a marketing SMS, in Chinese, two of them in English too.

Each template is checked with ``messaging.rendering.template_problems`` as ``template_save``
would check it; the hook is idempotent (``autocrm demo`` may run again)."""

from __future__ import annotations

import secrets
from typing import Any

from autocrm.messaging import rendering
from autocrm.messaging.models import ChannelAccount, MessageTemplate, MessagingSettings
from autocrm.tenancy.models import Organization, Store

UNSUBSCRIBE = "拒收请回复R"

# (code, name, purpose, language, body, provider template id, parameter order)
TEMPLATES: tuple[tuple[str, str, str, str, str, str, tuple[str, ...]], ...] = (
    ("appointment_reminder", "预约提醒", "service", "zh-hans",
     "{customer_title}，您预约的{appointment_time}保养已确认，车牌{plate}。地址：{store_name}，电话{store_phone}。",
     "1800001", ("customer_title", "appointment_time", "plate", "store_name", "store_phone")),
    ("appointment_reminder", "Appointment reminder", "service", "en",
     "Dear {customer_name}, your service appointment at {appointment_time} for {plate} is confirmed. {store_name}, {store_phone}.",
     "1800002", ("customer_name", "appointment_time", "plate", "store_name", "store_phone")),
    ("service_done", "保养完工通知", "service", "zh-hans",
     "{customer_title}，您的爱车{plate}已完成保养，可随时到{store_name}提车。",
     "1800003", ("customer_title", "plate", "store_name")),
    ("service_done", "Service done", "service", "en",
     "Dear {customer_name}, your car {plate} is ready for collection at {store_name}.",
     "1800004", ("customer_name", "plate", "store_name")),
    ("maintenance_due", "保养到期提醒", "service", "zh-hans",
     "{customer_title}，您的{model}（{plate}）建议在{due_date}前回店保养，预约电话{store_phone}。",
     "1800005", ("customer_title", "model", "plate", "due_date", "store_phone")),
    ("survey_link", "服务满意度回访", "survey", "zh-hans",
     "{customer_title}，感谢您到访{store_name}，请花一分钟评价本次服务：{link}",
     "1800006", ("customer_title", "store_name", "link")),
    ("login_code", "登录验证码", "login_code", "zh-hans",
     "您的登录验证码为{code}，5分钟内有效，请勿告诉他人。", "1800007", ("code",)),
    ("winter_care", "冬季保养节", "marketing", "zh-hans",
     "{customer_title}，{store_name}冬季保养节：机油保养8折优惠，12月31日前到店有效。" + UNSUBSCRIBE,
     "1800008", ("customer_title", "store_name")),
)  # fmt: skip

CONSOLE_CHANNELS = ("sms", "email", "wecom")


def demo_messaging_store(store: Store, *, console: bool = True) -> None:
    """The store's demo messaging; ``console``: console accounts for SMS, email and WeCom too."""
    MessagingSettings.objects.get_or_create(
        store=store, defaults={"unsubscribe_text": UNSUBSCRIBE, "sms_signature": store.name[:20]}
    )
    for channel in CONSOLE_CHANNELS if console else ():
        if not ChannelAccount.objects.filter(store=store, channel=channel).exists():
            ChannelAccount.objects.create(
                store=store, provider="console", channel=channel, name="控制台（演示）",
                callback_secret=secrets.token_urlsafe(24), is_default=False,
            )  # fmt: skip
    for code, name, purpose, language, body, template_id, order in TEMPLATES:
        problems = rendering.template_problems(
            purpose=purpose, channel="sms", body=body, provider_template_id=template_id,
            param_order=list(order), unsubscribe_text=UNSUBSCRIBE,
        )  # fmt: skip
        if problems:  # a demo template that breaks a rule is a bug here, not data to keep
            raise ValueError(f"demo template {code}/{language}: {problems}")
        MessageTemplate.objects.get_or_create(
            store=store, code=code, channel="sms", language=language,
            defaults={"name": name, "purpose": purpose, "body": body, "provider_template_id": template_id,
                      "param_order": list(order)},
        )  # fmt: skip


def demo_messaging_hook(*, organization: Organization, stores: dict[str, Store], options: dict[str, Any]) -> None:
    """``demo_create`` hook: messaging settings and templates per store, and the console accounts
    when the demo has customers (``autocrm demo``, behind ``make run``); the bare demo of the test
    fixtures has no account, so a test sets up the providers it exercises."""
    for store in stores.values():
        demo_messaging_store(store, console=bool(options.get("customers")))
