"""What the WeChat-family clients share: one pooled HTTP client, JSON calls carrying the
``access_token`` from the shared :class:`~.tokens.TokenManager`, and the retry once on the
provider's token errors."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from ..base import ChannelClient, ChannelError, ErrorKind
from .tokens import TokenManager

log = logging.getLogger(__name__)

_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s\"']+")


class RedactAccessTokens(logging.Filter):
    """httpx logs every request's URL at INFO, and WeChat takes the token in the query string:
    the token is replaced by ``***`` before any handler sees the line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg, record.args = _TOKEN_IN_URL.sub(r"\1***", message), ()
        return True


logging.getLogger("httpx").addFilter(RedactAccessTokens())

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

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 5.0):
        super().__init__(config, endpoint=endpoint, timeout=timeout)
        self._http = httpx.Client(base_url=(endpoint or self.base_url).rstrip("/"), timeout=timeout)
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
    ) -> dict[str, Any]:
        """One request; the decoded JSON answer. Transport failures and 5xx are ``retry``."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if content is not None else None
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise ChannelError("retry", "timeout", str(exc)) from exc
        except httpx.HTTPError as exc:
            raise ChannelError("retry", "network", str(exc)) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ChannelError("retry", f"http_{response.status_code}")
        if response.status_code >= 400:
            raise ChannelError("permanent", f"http_{response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ChannelError("retry", "bad_answer", "the answer is not JSON") from exc
        if not isinstance(data, dict):
            raise ChannelError("retry", "bad_answer", "the answer is not a JSON object")
        return data

    def call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST ``body`` with the current access token; on a token error refresh it once and
        retry once. Raises :class:`ChannelError` for any non-zero ``errcode``."""
        token = self.tokens.get()
        data = self.request("POST", path, params={"access_token": token}, body=body)
        if errcode_of(data) in TOKEN_ERRORS:
            log.info("%s: token refused (%s), refreshing once", self.provider, data.get("errcode"))
            token = self.tokens.refresh(rejected=token)
            data = self.request("POST", path, params={"access_token": token}, body=body)
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
