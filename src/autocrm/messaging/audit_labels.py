"""How the audit trail names the outbox's audited fields that carry no translated
``verbose_name`` (provider ids, the mini-program ledger). Registered in ``MessagingConfig.ready``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from autocrm.core.audit import register_model


def register() -> None:
    register_model("messaging.messagetemplate", labels={"html": _("HTML text")})
    register_model("messaging.wechatbinding", labels={"openid": _("WeChat openid"), "unionid": _("WeChat unionid")})
    register_model(
        "messaging.subscribegrant",
        labels={
            "openid": _("WeChat openid"),
            "template_id": _("subscription template id"),
            "remaining": _("sends left"),
        },
    )
