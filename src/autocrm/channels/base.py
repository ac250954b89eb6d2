"""The one interface every provider client implements.

``messaging`` (the outbox) is the only caller. It builds an :class:`Outgoing` from a rendered
template, asks :func:`client_for` for the store's configured client and calls:

* :meth:`ChannelClient.send` — the provider's real request (signature, format). Returns a
  :class:`SendResult` on acceptance; raises :class:`ChannelError` whose ``kind`` says what the
  outbox does next: ``retry`` (back-off), ``permanent`` (failed, no retry), ``blacklist``
  (suppressed; marketing consent withdrawn; never retried), ``rate_limited`` (retry later,
  slower), ``auth`` (credentials wrong: failed, the store manager told).
* :meth:`ChannelClient.query` — reconciliation after a crash: did the provider accept the
  message carrying *our own id* (Tencent ``SessionContext`` / status pull by number, Aliyun
  ``OutId`` / ``QuerySendDetails``)? ``None`` means the provider has no record, so resending
  is safe; a :class:`StatusReport` means it was accepted, so it is never resent. Providers that
  cannot answer set ``can_query = False`` and the outbox does not resend an in-doubt message
  (it is marked for a person to decide: never doubled).
* :meth:`ChannelClient.parse_callback` — a receipt or inbound-reply push from the provider,
  verified (signature or the per-store callback secret); raises :class:`CallbackRejected`
  (→ 403, nothing changed) when forged or stale.

Clients are plain Python over ``httpx``: no Django models. A client is built from the store's
decrypted configuration (``config``) and may be pointed at a local server (``endpoint``), which
is how the tests check every request exactly as the provider documents it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from django.utils.translation import gettext_lazy as _

# What a provider delivers to. ``sms``/``wechat``/``email`` match customers.choices.Channel (the
# consent channels); ``wecom`` and ``inbox`` reach staff; ``console`` writes every message to a
# file and the log so that ``make run`` shows them without any provider.
ChannelKind = Literal["sms", "wechat", "miniprogram", "email", "wecom", "inbox", "console"]

ErrorKind = Literal["retry", "permanent", "blacklist", "rate_limited", "auth"]

DeliveryStatus = Literal["accepted", "delivered", "failed", "pending"]


@dataclass(frozen=True)
class ConfigField:
    """One setting a store enters for a provider (SecretId, SignName, AppSecret…). Secret fields
    are stored encrypted and never shown again after saving."""

    name: str
    label: Any
    secret: bool = False
    required: bool = True
    help: Any = ""


@dataclass(frozen=True)
class Outgoing:
    """One message, already rendered and checked, ready for the provider.

    ``message_id`` is ours (32 hex characters), sent to the provider where it can carry one
    (Tencent ``SessionContext``, Aliyun ``OutId``, WeChat ``client_msg_id``, email
    ``Message-ID``) so that status pulls and receipts find the message again."""

    message_id: str
    to: str  # mobile in E.164 (+8613812345678), openid, email address, WeCom userid or user id
    template_code: str = ""  # provider template id (SMS TemplateId / TemplateCode, WeChat template_id)
    params: tuple[str, ...] = ()  # ordered parameters (Tencent TemplateParamSet)
    data: Mapping[str, str] = field(default_factory=dict)  # named parameters (Aliyun, WeChat)
    subject: str = ""
    text: str = ""  # the full rendered body (SMS text, email text part, inbox text)
    html: str = ""  # email HTML part
    sign_name: str = ""  # SMS signature approved by the provider (sent without 【】)
    link: str = ""  # WeChat template url / mini-program page / inbox link
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message (``accepted``) or delivered it already (``delivered``:
    email handed to the SMTP server, inbox, console)."""

    provider_id: str  # the provider's id of the message (SerialNo, BizId, msgid, Message-ID)
    status: DeliveryStatus = "accepted"
    raw: Mapping[str, Any] = field(default_factory=dict)  # the answer, for the attempt log (no secrets)


@dataclass(frozen=True)
class StatusReport:
    """What became of a message: from a receipt callback or a status pull. ``message_id`` is our
    id when the provider echoes it; otherwise the outbox matches on ``provider_id``."""

    provider_id: str
    status: DeliveryStatus
    message_id: str = ""
    to: str = ""
    code: str = ""  # provider's status/error code
    description: str = ""
    at: dt.datetime | None = None
    blacklisted: bool = False  # the number refused messages (suppress, withdraw marketing consent)


@dataclass(frozen=True)
class InboundReply:
    """A customer's reply (an SMS uplink, a WeChat event). ``messaging`` withdraws marketing
    consent on unsubscribe words (R, T, TD, 退订…) and records the rest on the timeline."""

    sender: str  # E.164 mobile or openid
    text: str
    at: dt.datetime | None = None
    extension: str = ""  # SMS extension code / sign the reply came to
    event: str = ""  # WeChat event name (e.g. subscribe_msg_popup_event) for grant ledgers
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackAnswer:
    """What the provider expects back from our callback endpoint."""

    status: int = 200
    content_type: str = "application/json"
    body: bytes = b'{"result":0,"errmsg":"OK"}'


class ChannelError(Exception):
    """The provider refused or could not be reached; ``kind`` decides the outbox's next step."""

    def __init__(
        self,
        kind: ErrorKind,
        code: str,
        message: str = "",
        *,
        retry_after: float | None = None,
        in_doubt: bool = False,
    ):
        super().__init__(f"{code}: {message}" if message else code)
        self.kind: ErrorKind = kind
        self.code = code
        self.message = message
        self.retry_after = retry_after
        # The request may have reached the provider and been accepted (a read timeout, a connection
        # dropped after the request was written): reconcile with ``query`` before resending.
        # ``False``: the provider answered with a refusal, or the request never left (connect failed).
        self.in_doubt = in_doubt


class CallbackRejected(Exception):
    """A callback that is forged, stale or malformed: answered 403, nothing changed."""


class ChannelClient:
    """Base of every provider client. Subclasses set the class attributes and implement
    ``send`` (and ``query``/``parse_callback`` where the provider has them)."""

    provider: ClassVar[
        str
    ]  # "tencent_sms", "aliyun_sms", "wechat_oa", "wechat_mp", "wecom", "smtp", "console", "inbox"
    channel: ClassVar[ChannelKind]
    label: ClassVar[Any]
    config_fields: ClassVar[tuple[ConfigField, ...]] = ()
    can_query: ClassVar[bool] = False
    # Most requests per second the provider allows one account (the outbox paces to it).
    rate_per_second: ClassVar[float] = 100.0
    # Sending the same message (same ``message_id`` / content) again is a no-op on the provider's
    # side within ``idempotency_window`` seconds of the first send (WeChat ``client_msg_id``, WeCom
    # duplicate check): the outbox may resend an in-doubt message inside that window even when
    # ``can_query`` is False. Outside it, or when False, an in-doubt message is never resent blind.
    resend_is_idempotent: ClassVar[bool] = False
    idempotency_window: float | None = None
    # How many sends of one batch the outbox may run at once on this client (threads sharing
    # it): 1 for a client that is not safe to share between threads (an SMTP session, a file).
    concurrent_sends: ClassVar[int] = 1

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 5.0):
        self.config = dict(config)
        self.endpoint = endpoint
        self.timeout = timeout

    def send(self, message: Outgoing) -> SendResult:
        raise NotImplementedError

    def query(self, message_id: str, *, to: str, sent_at: dt.datetime) -> StatusReport | None:
        """Did the provider accept the message with our ``message_id`` sent to ``to`` around
        ``sent_at``? ``None``: it has no record (safe to send again)."""
        raise NotImplementedError

    def parse_callback(
        self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str], secret: str
    ) -> list[StatusReport | InboundReply]:
        """Verify and parse one callback. ``secret`` is the store's callback secret (in the URL
        we give the provider, or the provider's signing token). Raises :class:`CallbackRejected`."""
        raise CallbackRejected(str(_("This provider sends no callbacks.")))

    def callback_answer(self, *, query: Mapping[str, str] | None = None) -> CallbackAnswer:
        """The answer to a callback that :meth:`parse_callback` accepted. ``query`` is the
        callback's query string (WeChat's URL check is answered with its ``echostr``)."""
        return CallbackAnswer()

    def close(self) -> None:
        """Release pooled connections."""


_registry: dict[str, type[ChannelClient]] = {}


def register(cls: type[ChannelClient]) -> type[ChannelClient]:
    """Class decorator: make a client selectable by its ``provider`` name."""
    _registry[cls.provider] = cls
    return cls


def providers() -> dict[str, type[ChannelClient]]:
    """Every registered client class by provider name (imports the sub-packages once)."""
    from . import loader

    loader.load_all()
    return dict(_registry)


def client_class(provider: str) -> type[ChannelClient]:
    try:
        return providers()[provider]
    except KeyError:
        raise LookupError(provider) from None
