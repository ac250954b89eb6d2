"""WeChat Mini Program (小程序) subscribe messages (订阅消息) — provider ``wechat_mp``.

``POST cgi-bin/message/subscribe/send?access_token=…`` with ``touser`` (openid),
``template_id``, ``page``, ``data`` {key: {value}}, ``miniprogram_state`` and ``lang``. Each
send uses one grant the user gave in the subscribe pop-up; without one WeChat answers 43101,
which is a ``permanent`` error with code ``"43101"`` so that the outbox falls back to SMS.

The grants come in the pushes: ``subscribe_msg_popup_event`` (the user's choice per template in
the pop-up), ``subscribe_msg_change_event`` (changed in the settings) and
``subscribe_msg_sent_event`` (the result of a send): each item becomes an
:class:`InboundReply` with ``event`` and ``data = {"template_id", "status", …}`` for the grant
ledger; a sent event also gives a :class:`StatusReport` for the message (by ``msgid``).

No idempotency: the API carries no id of ours, so an in-doubt message is never resent
(``can_query = False``, ``resend_is_idempotent = False``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from ..base import (
    ConfigField,
    ErrorKind,
    InboundReply,
    Outgoing,
    SendResult,
    StatusReport,
    register,
)
from .api import StableTokenClient, WeixinClient
from .official_account import push_time

SUBSCRIBE_EVENTS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
}
STATES = ("formal", "trial", "developer")


def _items(message: Mapping[str, Any], wrapper: str) -> list[Mapping[str, Any]]:
    # XML: <SubscribeMsgPopupEvent><List>…</List>…</SubscribeMsgPopupEvent>; JSON: "List" at the
    # top, an object or an array.
    holder = message.get(wrapper)
    found = holder.get("List") if isinstance(holder, Mapping) else message.get("List")
    if isinstance(found, Mapping):
        found = [found]
    return [item for item in found or [] if isinstance(item, Mapping)]


@register
class MiniProgramClient(StableTokenClient):
    provider = "wechat_mp"
    channel = "miniprogram"
    label = _("WeChat Mini Program (subscribe messages)")
    config_fields = (
        *StableTokenClient.app_fields(_("Only for the safe (encrypted) message mode of the message push settings.")),
        ConfigField(
            "miniprogram_state",
            _("Mini Program version opened"),
            required=False,
            help=_("formal (default), trial or developer."),
        ),
    )
    can_query = False
    errors: ClassVar[dict[int, ErrorKind]] = {
        **WeixinClient.errors,
        43101: "permanent",  # no grant left for this template: fall back to another channel
    }

    def send(self, message: Outgoing) -> SendResult:
        state = self.config.get("miniprogram_state") or "formal"
        fields: dict[str, Any] = {
            "miniprogram_state": state if state in STATES else "formal",
            "lang": str(message.extra.get("lang", "zh_CN")),
        }
        if message.link:
            fields["page"] = message.link
        return self.send_templated("/cgi-bin/message/subscribe/send", message, **fields)

    def parse_push(self, message: Mapping[str, Any]) -> list[StatusReport | InboundReply]:
        event = str(message.get("Event", ""))
        wrapper = SUBSCRIBE_EVENTS.get(event)
        if message.get("MsgType") != "event" or wrapper is None:
            return []
        sender = str(message.get("FromUserName", ""))
        at = push_time(message)
        out: list[StatusReport | InboundReply] = []
        for item in _items(message, wrapper):
            template_id = str(item.get("TemplateId", ""))
            if event == "subscribe_msg_sent_event":
                code = str(item.get("ErrorCode", ""))
                msg_id = str(item.get("MsgID", ""))
                ok = code == "0"
                out.append(
                    InboundReply(
                        sender=sender,
                        text="",
                        at=at,
                        event=event,
                        data={
                            "template_id": template_id,
                            "status": "success" if ok else "failed",
                            "msg_id": msg_id,
                            "error_code": code,
                        },
                    )
                )
                out.append(
                    StatusReport(
                        provider_id=msg_id,
                        status="delivered" if ok else "failed",
                        to=sender,
                        code=code,
                        description=str(item.get("ErrorStatus", "")),
                        at=at,
                    )
                )
            else:
                data = {"template_id": template_id, "status": str(item.get("SubscribeStatusString", ""))}
                if "PopupScene" in item:
                    data["popup_scene"] = str(item["PopupScene"])
                out.append(InboundReply(sender=sender, text="", at=at, event=event, data=data))
        return out
