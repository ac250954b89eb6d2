"""What the WeChat-family clients share: kept-alive HTTP connections
(:class:`~autocrm.channels.keepalive.KeepAlive`), JSON calls carrying the ``access_token`` from
the shared :class:`~.tokens.TokenManager`, the retry once on the provider's token errors; and
for the Official Account and the Mini Program (:class:`StableTokenClient`) their stable token,
their settings, their templated send and their verified pushes.

A transport failure before the request was written (no connection) is a plain ``retry``; after
it (the answer lost or late) the message may have been accepted: ``retry`` *in doubt*, which the
outbox resends only where WeChat drops a second copy itself (``resend_is_idempotent`` inside
``idempotency_window``) and otherwise leaves ``uncertain`` for a person (ADR 0013). A token fetch
is never in doubt: no message went."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy as _

from ..base import (
    CallbackAnswer,
    ChannelClient,
    ChannelError,
    ConfigField,
    ErrorKind,
    InboundReply,
    Outgoing,
    SendResult,
    StatusReport,
)
from ..keepalive import KeepAlive, MaybeSent, NotSent
from . import push
from .tokens import TokenManager

log = logging.getLogger(__name__)

_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s\"']+")


class RedactAccessTokens(logging.Filter):
    """WeChat takes the token in the query string, and request lines get logged (ours at DEBUG,
    httpx's at INFO wherever httpx is still used): the token is replaced by ``***`` before any
    handler sees the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1***", message), ()
        return True


logging.getLogger("httpx").addFilter(RedactAccessTokens())
log.addFilter(RedactAccessTokens())

# The token is invalid (40001: invalid credential, 40014: invalid access_token) or has expired
# (42001): refresh once, retry once.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})


def errcode_of(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1


class WeixinClient(ChannelClient):
    """Base of the clients of ``api.weixin.qq.com`` and ``qyapi.weixin.qq.com``."""

    base_url: ClassVar[str] = "https://api.weixin.qq.com"
    # errcode → (kind, what it means); subclasses extend it. Unlisted codes are permanent.
    errors: ClassVar[dict[int, ErrorKind]] = {
        -1: "retry",  # system busy
        40001: "auth",
        40013: "auth",  # invalid appid
        40125: "auth",  # invalid appsecret
        40164: "auth",  # caller IP not on the account's whitelist
        45009: "rate_limited",  # daily quota of the API reached
        45011: "rate_limited",  # API called too often
    }

    # Sends of one batch in flight at once (threads, each on its own kept-alive connection).
    concurrent_sends = 8

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 5.0):
        super().__init__(config, endpoint=endpoint, timeout=timeout)
        self._http = KeepAlive((endpoint or self.base_url).rstrip("/"), timeout=timeout)
        self._tokens: TokenManager | None = None

    # --- the token ------------------------------------------------------------------------
    def token_key(self) -> str:
        raise NotImplementedError

    def fetch_token(self, force: bool) -> tuple[str, float]:
        raise NotImplementedError

    @property
    def tokens(self) -> TokenManager:
        if self._tokens is None:
            self._tokens = TokenManager(self.token_key(), self.fetch_token)
        return self._tokens

    # --- HTTP -----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        doubt: bool = False,
    ) -> dict[str, Any]:
        """One request; the decoded JSON answer. Transport failures and 5xx are ``retry``; with
        ``doubt`` (a message's send) a failure after the request was written is in doubt."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else None
        target = path + ("?" + urlencode(params) if params else "")
        log.debug("%s %s", method, target)
        try:
            response = self._http.request(method, target, body=content, headers=headers)
        except NotSent as exc:
            raise ChannelError("retry", "network", str(exc)) from exc
        except MaybeSent as exc:
            raise ChannelError("retry", "timeout" if exc.timed_out else "network", str(exc), in_doubt=doubt) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ChannelError("retry", f"http_{response.status_code}")
        if response.status_code >= 400:
            raise ChannelError("permanent", f"http_{response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ChannelError("retry", "bad_answer", "the answer is not JSON", in_doubt=doubt) from exc
        if not isinstance(data, dict):
            raise ChannelError("retry", "bad_answer", "the answer is not a JSON object", in_doubt=doubt)
        return data

    def call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` with the current access token; on a token error refresh it once and
        retry once. Raises :class:`ChannelError` for any non-zero ``errcode``."""
        token = self.tokens.get()
        data = self.request("POST", path, params={"access_token": token}, body=body, doubt=True)
        if errcode_of(data) in TOKEN_ERRORS:
            log.info("%s: token refused (%s), refreshing once", self.provider, data.get("errcode"))
            token = self.tokens.refresh(rejected=token)
            data = self.request("POST", path, params={"access_token": token}, body=body, doubt=True)
            if errcode_of(data) in TOKEN_ERRORS:
                raise ChannelError("retry", str(errcode_of(data)), str(data.get("errmsg", "")))
        code = errcode_of(data)
        if code != 0:
            raise self.error(code, str(data.get("errmsg", "")))
        return data

    def error(self, code: int, message: str) -> ChannelError:
        kind = self.errors.get(code, "permanent")
        return ChannelError(kind, str(code), message)

    def token_error(self, data: Mapping[str, Any]) -> ChannelError:
        """A failed token fetch: wrong credentials are ``auth``, the rest ``retry``."""
        code = errcode_of(data)
        kind: ErrorKind = "auth" if self.errors.get(code) == "auth" else "retry"
        return ChannelError(kind, str(code), str(data.get("errmsg", "")))

    def close(self) -> None:
        self._http.close()


class StableTokenClient(WeixinClient):
    """Official Account and Mini Program: the token from ``cgi-bin/stable_token``.

    Chosen over ``cgi-bin/token`` because a stable token is *not* invalidated by another
    fetch: the ordinary endpoint replaces the account's token on every call, so any other
    system holding the same AppSecret (a marketing tool, a second deployment, a developer's
    script) would break our workers' token and ours theirs. ``stable_token`` in its ordinary
    mode answers the same token until five minutes before it expires; ``force_refresh`` (20
    a day) is used only when the provider refused the token we hold."""

    def token_key(self) -> str:
        return f"channels:wechat:token:{self.config.get('app_id', '')}"

    def fetch_token(self, force: bool) -> tuple[str, float]:
        body = {
            "grant_type": "client_credential",
            "appid": self.config.get("app_id", ""),
            "secret": self.config.get("app_secret", ""),
            "force_refresh": force,
        }
        data = self.request("POST", "/cgi-bin/stable_token", body=body)
        token = data.get("access_token")
        if errcode_of(data) != 0 or not isinstance(token, str) or not token:
            raise self.token_error(data)
        return token, float(data.get("expires_in") or 7200)

    # --- what the Official Account and the Mini Program share ------------------------------
    @staticmethod
    def app_fields(push_mode_help: Any) -> tuple[ConfigField, ...]:
        """AppID, AppSecret and the push's EncodingAESKey (``push_mode_help``: where its
        safe mode is set in this product's console)."""
        return (
            ConfigField("app_id", _("AppID")),
            ConfigField("app_secret", _("AppSecret"), secret=True),
            ConfigField("encoding_aes_key", _("EncodingAESKey"), secret=True, required=False, help=push_mode_help),
        )

    def send_templated(self, path: str, message: Outgoing, **fields: Any) -> SendResult:
        """POST a templated message (``touser``, ``template_id``, ``data`` {key: {value}} and
        ``fields``) to ``path``; its ``msgid`` is the provider's id."""
        if not message.to:
            raise ChannelError("permanent", "no_address", "no openid")
        if not message.template_code:
            raise ChannelError("permanent", "no_template", "no template_id")
        body: dict[str, Any] = {
            "touser": message.to,
            "template_id": message.template_code,
            "data": data_param(message.data),
            **fields,
        }
        data = self.call(path, body)
        return SendResult(provider_id=str(data.get("msgid", "")), status="accepted", raw=data)

    def parse_callback(
        self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str], secret: str
    ) -> list[StatusReport | InboundReply]:
        """A push: its signature checked with the account's token (``secret``) and decrypted in
        safe mode, then :meth:`parse_push`; nothing for WeChat's URL check (``echostr``)."""
        message = push.verified_message(
            query=query,
            body=body,
            token=secret,
            encoding_aes_key=self.config.get("encoding_aes_key", ""),
            app_id=self.config.get("app_id", ""),
        )
        return [] if message is None else self.parse_push(message)

    def parse_push(self, message: Mapping[str, Any]) -> list[StatusReport | InboundReply]:
        """The reports and replies in one verified push message."""
        raise NotImplementedError

    def callback_answer(self, *, query: Mapping[str, str] | None = None) -> CallbackAnswer:
        """WeChat expects the ``echostr`` back on the GET check, and ``success`` (or nothing) to
        a push within 5 seconds, else it retries three times."""
        echo = push.echo_answer(query)
        return CallbackAnswer(status=200, content_type="text/plain; charset=utf-8", body=echo or b"success")


def data_param(data: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``{"thing1": "保养"}`` → ``{"thing1": {"value": "保养"}}`` (the shape both APIs take)."""
    return {str(key): {"value": str(value)} for key, value in data.items()}
