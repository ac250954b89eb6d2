"""WeCom (企业微信) application messages for staff — provider ``wecom``.

The token: ``GET cgi-bin/gettoken?corpid=…&corpsecret=…`` (one per application: corp id and
the application's secret), cached across workers like the WeChat ones under
``channels:wecom:token:<corpid>:<agentid>``; WeCom's token errors are 40014 (invalid) and
42001 (expired). The message: ``POST cgi-bin/message/send?access_token=…`` with ``touser``
(the staff member's WeCom userid), ``agentid``, ``msgtype`` ``textcard`` when the message has
a link (title, description, url) else ``text``, and ``enable_duplicate_check=1`` with
``duplicate_check_interval``.

Idempotency: with the duplicate check on, WeCom drops a message identical to one the
application sent to the same user within the interval (default 1,800 s, at most 4 hours). So a
resend of an in-doubt message, whose content is the same, is a no-op within the window:
``resend_is_idempotent = True``, ``idempotency_window`` = the configured interval. The check is
by *content*, not by id: two distinct notifications with the same text to the same person
within the window are one (the outbox's digests make that rare; include a time or id in the
text where it matters). An ``invaliduser`` answer naming the recipient is a permanent error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _

from ..base import ChannelError, ConfigField, ErrorKind, Outgoing, SendResult, register
from .api import WeixinClient, errcode_of

DEFAULT_DUPLICATE_INTERVAL = 1800
MAX_DUPLICATE_INTERVAL = 4 * 3600


def duplicate_interval(config: Mapping[str, str]) -> int:
    try:
        value = int(config.get("duplicate_check_interval") or DEFAULT_DUPLICATE_INTERVAL)
    except (TypeError, ValueError):
        value = DEFAULT_DUPLICATE_INTERVAL
    return min(max(value, 1), MAX_DUPLICATE_INTERVAL)


@register
class WeComClient(WeixinClient):
    provider = "wecom"
    channel = "wecom"
    label = _("WeCom (application messages to staff)")
    base_url = "https://qyapi.weixin.qq.com"
    config_fields = (
        ConfigField("corp_id", _("CorpID")),
        ConfigField("agent_id", _("AgentId")),
        ConfigField("corp_secret", _("Application Secret"), secret=True),
        ConfigField(
            "duplicate_check_interval",
            _("Duplicate check interval (seconds)"),
            required=False,
            help=_(
                "WeCom drops an identical message to the same person within this time (default 1800, at most 14400)."
            ),
        ),
    )
    can_query = False
    resend_is_idempotent = True
    idempotency_window = float(DEFAULT_DUPLICATE_INTERVAL)
    errors: ClassVar[dict[int, ErrorKind]] = {
        -1: "retry",
        40001: "auth",  # invalid secret
        40013: "auth",  # invalid corpid
        40056: "auth",  # invalid agentid
        40091: "auth",  # invalid secret
        60020: "auth",  # the server's IP is not trusted by the application
        301002: "auth",  # the application may not send to this user
        45009: "rate_limited",
        45033: "rate_limited",  # too many concurrent calls
        81013: "permanent",  # every recipient invalid or out of the application's range
        82001: "permanent",
    }

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 5.0):
        super().__init__(config, endpoint=endpoint, timeout=timeout)
        # The window the outbox may rely on is this account's interval.
        self.idempotency_window = float(duplicate_interval(self.config))

    def token_key(self) -> str:
        return f"channels:wecom:token:{self.config.get('corp_id', '')}:{self.config.get('agent_id', '')}"

    def fetch_token(self, force: bool) -> tuple[str, float]:
        params = {"corpid": self.config.get("corp_id", ""), "corpsecret": self.config.get("corp_secret", "")}
        data = self.request("GET", "/cgi-bin/gettoken", params=params)
        token = data.get("access_token")
        if errcode_of(data) != 0 or not isinstance(token, str) or not token:
            raise self.token_error(data)
        return token, float(data.get("expires_in") or 7200)

    def send(self, message: Outgoing) -> SendResult:
        if not message.to:
            raise ChannelError("permanent", "no_address", "no WeCom userid")
        try:
            agent_id = int(self.config.get("agent_id", ""))
        except ValueError:
            raise ChannelError("auth", "40056", "agent_id is not a number") from None
        text = message.text or message.subject
        body: dict[str, Any] = {
            "touser": message.to,
            "agentid": agent_id,
            "enable_duplicate_check": 1,
            "duplicate_check_interval": duplicate_interval(self.config),
        }
        if message.link:
            body["msgtype"] = "textcard"
            body["textcard"] = {
                "title": message.subject or text.split("\n", 1)[0][:128],
                "description": text,
                "url": message.link,
            }
        else:
            body["msgtype"] = "text"
            body["text"] = {"content": text}
        data = self.call("/cgi-bin/message/send", body)
        for field in ("invaliduser", "unlicenseduser"):
            refused = [user for user in str(data.get(field) or "").split("|") if user]
            if message.to in refused:
                raise ChannelError("permanent", field, message.to)
        return SendResult(provider_id=str(data.get("msgid", "")), status="accepted", raw=data)
