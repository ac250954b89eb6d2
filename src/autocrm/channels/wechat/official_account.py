"""WeChat Official Account (公众号) template messages (模板消息) — provider ``wechat_oa``.

``POST cgi-bin/message/template/send?access_token=…`` with ``touser`` (the follower's openid),
``template_id``, ``url`` or ``miniprogram`` {appid, pagepath}, ``data`` {key: {value}} and
``client_msg_id`` = our message id. The answer's ``msgid`` comes back in the
``TEMPLATESENDJOBFINISH`` push with the delivery result.

Idempotency: WeChat sends one message per (openid, ``client_msg_id``) within 10 minutes
(防重入; "超过10分钟不保证效果"). So a resend of an in-doubt message with the same id is a no-op
on WeChat's side *within that window*: the class says ``resend_is_idempotent = True`` with
``idempotency_window = 600``; after the window the outbox must not resend an in-doubt message
(there is no status query by our id: ``can_query = False``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from ..base import (
    ConfigField,
    DeliveryStatus,
    ErrorKind,
    InboundReply,
    Outgoing,
    SendResult,
    StatusReport,
    register,
)
from .api import StableTokenClient, WeixinClient


def push_time(message: Mapping[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(message.get("CreateTime", "")), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


TEMPLATE_STATUS: dict[str, tuple[DeliveryStatus, bool]] = {
    "success": ("delivered", False),
    "failed:user block": ("failed", True),  # the user blocked the account's template messages
    "failed: system failed": ("failed", False),
}


@register
class OfficialAccountClient(StableTokenClient):
    provider = "wechat_oa"
    channel = "wechat"
    label = _("WeChat Official Account (template messages)")
    config_fields = (
        *StableTokenClient.app_fields(_("Only for the safe (encrypted) message mode of the server configuration.")),
        ConfigField(
            "miniprogram_app_id",
            _("Linked Mini Program AppID"),
            required=False,
            help=_("Messages whose link is a Mini Program page open this Mini Program."),
        ),
    )
    can_query = False
    resend_is_idempotent = True
    idempotency_window = 600.0
    errors: ClassVar[dict[int, ErrorKind]] = {
        **WeixinClient.errors,
        43004: "permanent",  # the user does not follow the account: no address to send to
        43101: "blacklist",  # the user refused the account's messages
        45009: "rate_limited",
        45047: "rate_limited",
    }

    def send(self, message: Outgoing) -> SendResult:
        fields: dict[str, Any] = {"client_msg_id": message.message_id}
        page = str(message.extra.get("miniprogram_page", ""))
        if page and self.config.get("miniprogram_app_id"):
            fields["miniprogram"] = {"appid": self.config["miniprogram_app_id"], "pagepath": page}
        if message.link:
            fields["url"] = message.link
        return self.send_templated("/cgi-bin/message/template/send", message, **fields)

    def parse_push(self, message: Mapping[str, Any]) -> list[StatusReport | InboundReply]:
        sender = str(message.get("FromUserName", ""))
        at = push_time(message)
        kind = message.get("MsgType")
        if kind == "event":
            event = str(message.get("Event", ""))
            if event == "TEMPLATESENDJOBFINISH":
                raw_status = str(message.get("Status", ""))
                status, blocked = TEMPLATE_STATUS.get(raw_status, ("failed", False))
                return [
                    StatusReport(
                        provider_id=str(message.get("MsgID", "")),
                        status=status,
                        to=sender,
                        code=raw_status,
                        description=raw_status,
                        at=at,
                        blacklisted=blocked,
                    )
                ]
            if event in ("subscribe", "unsubscribe"):
                # Following or unfollowing the account: an unfollowed user cannot receive
                # template messages any more (43004).
                return [InboundReply(sender=sender, text="", at=at, event=event)]
            return []
        if kind == "text":
            text = str(message.get("Content", ""))
            return [InboundReply(sender=sender, text=text, at=at, data={"msg_id": str(message.get("MsgId", ""))})]
        return []
