"""What the two SMS clients (Tencent Cloud, Alibaba Cloud) share: the pooled HTTP connection and
its failure kinds, mobile numbers, and the checks on callbacks that the providers do not sign.

Neither provider signs its receipt or reply pushes. The store's callback URL carries the store's
callback secret (``…/callback?secret=…``) and is known only to the provider console and us; a push
without it, with another one, with a body that is not the documented JSON, or with times that are
stale or in the future, is refused (:class:`~autocrm.channels.base.CallbackRejected` → 403)."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
import threading
from collections.abc import Mapping
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
import phonenumbers
from django.utils.translation import gettext_lazy as _

from autocrm.channels.base import CallbackRejected, ChannelClient, ChannelError

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A receipt arrives within seconds to hours; the providers retry pushes for a day or so. Older
# pushes are replays; pushes from the future are forged (a few minutes of clock skew allowed).
CALLBACK_MAX_AGE = dt.timedelta(days=7)
CALLBACK_MAX_SKEW = dt.timedelta(minutes=5)
CALLBACK_MAX_BYTES = 1_000_000
CALLBACK_MAX_ITEMS = 1000

# Receipt codes and texts that mean the number refuses messages (unsubscribed, complained, on the
# operator's or the provider's do-not-disturb list): W-BLACK, MBBLACK, TDBLACK, 黑名单, 免打扰, 退订…
_BLACKLIST_WORDS = re.compile(r"BLACK|黑名单|免打扰|退订|拒收", re.IGNORECASE)


def looks_blacklisted(*texts: str) -> bool:
    """A receipt whose error code or text says the number is on a blacklist."""
    return any(_BLACKLIST_WORDS.search(t or "") for t in texts)


def split_mobile(to: str) -> tuple[str, str]:
    """``+8613812345678`` → ``("86", "13812345678")``; a bare 11-digit mainland number is +86.
    Raises ``ChannelError("permanent")`` for anything that is not a mobile number."""
    raw = (to or "").strip()
    if re.fullmatch(r"1\d{10}", raw):
        return "86", raw
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        raise ChannelError("permanent", "invalid_number", str(_("Not a mobile number in E.164 form."))) from None
    if not phonenumbers.is_possible_number(number):
        raise ChannelError("permanent", "invalid_number", str(_("Not a mobile number in E.164 form.")))
    return str(number.country_code), str(number.national_number)


_NON_DIGITS = re.compile(r"\D")


def e164(country_code: str, national: str) -> str:
    """``("86", "13812345678")`` → ``+8613812345678``; a number already in E.164 is kept."""
    if national.startswith("+"):
        return "+" + _NON_DIGITS.sub("", national)
    country_code = _NON_DIGITS.sub("", country_code or "").lstrip("0") or "86"
    return "+" + country_code + _NON_DIGITS.sub("", national)


def check_url_secret(query: Mapping[str, str], secret: str) -> None:
    """The push carries the store's callback secret in its URL, compared in constant time."""
    given = query.get("secret", "")
    if not secret or not isinstance(given, str) or not given:
        raise CallbackRejected("missing callback secret")
    if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), secret.encode("utf-8")):
        raise CallbackRejected("wrong callback secret")


def parse_json_body(body: bytes) -> Any:
    if len(body) > CALLBACK_MAX_BYTES:
        raise CallbackRejected("callback body too large")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CallbackRejected("callback body is not JSON") from None


def as_items(data: Any) -> list[dict[str, Any]]:
    """A push is one object or an array of objects (both providers batch receipts)."""
    items = data if isinstance(data, list) else [data]
    if not items or len(items) > CALLBACK_MAX_ITEMS or not all(isinstance(i, dict) for i in items):
        raise CallbackRejected("callback body is not an object or an array of objects")
    return items


def text_field(item: Mapping[str, Any], name: str, *, required: bool = True, max_len: int = 2000) -> str:
    value = item.get(name)
    if value is None:
        if required:
            raise CallbackRejected(f"callback field {name} missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CallbackRejected(f"callback field {name} malformed")
    value = str(value)
    if len(value) > max_len:
        raise CallbackRejected(f"callback field {name} too long")
    return value


def shanghai_time(value: str) -> dt.datetime:
    """``2026-12-01 08:03:04`` in Beijing time (how both providers write times in pushes)."""
    try:
        naive = dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007 - zone added below
    except (ValueError, AttributeError):
        raise CallbackRejected("callback time malformed") from None
    return naive.replace(tzinfo=SHANGHAI)


def unix_time(value: Any) -> dt.datetime:
    try:
        seconds = int(value)
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise CallbackRejected("callback time malformed") from None


def check_fresh(at: dt.datetime, now: dt.datetime) -> None:
    if at < now - CALLBACK_MAX_AGE:
        raise CallbackRejected("stale callback")
    if at > now + CALLBACK_MAX_SKEW:
        raise CallbackRejected("callback from the future")


class PooledHttpClient(ChannelClient):
    """One ``httpx.Client`` per client object, created on first use: connections are kept alive
    between messages (a worker sends thousands a second through one connection pool)."""

    _http: httpx.Client | None = None
    # How long after sending a message missing from the provider's records may still be in flight:
    # within it ``query`` raises an in-doubt ``retry`` instead of answering "no record". A store's
    # config may override it (``query_settle_seconds``; the fakes' tests set 0).
    query_settle: ClassVar[dt.timedelta] = dt.timedelta(seconds=60)

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 5.0):
        super().__init__(config, endpoint=endpoint, timeout=timeout)
        self._http_lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    self._http = httpx.Client(
                        timeout=httpx.Timeout(self.timeout),
                        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                        follow_redirects=False,
                        trust_env=False,
                    )
        return self._http

    def _settle(self) -> dt.timedelta:
        override = self.config.get("query_settle_seconds")
        if override in (None, ""):
            return self.query_settle
        try:
            return dt.timedelta(seconds=max(0.0, float(override)))
        except (TypeError, ValueError):
            return self.query_settle

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _post(self, url: str, *, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POST, turning transport failures into ``retry`` errors. ``in_doubt`` when the request
        may have reached the provider (it was written, then the answer was lost)."""
        try:
            response = self.http.post(url, content=content, headers=dict(headers))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise ChannelError("retry", "network.connect", type(exc).__name__) from exc
        except httpx.TimeoutException as exc:  # read/write timeout: the provider may have accepted it
            raise ChannelError("retry", "network.timeout", type(exc).__name__, in_doubt=True) from exc
        except httpx.TransportError as exc:  # connection reset or closed mid-answer
            raise ChannelError("retry", "network.error", type(exc).__name__, in_doubt=True) from exc
        if response.status_code >= 500:
            # A gateway error says nothing about whether the message went: in doubt.
            raise ChannelError("retry", f"http.{response.status_code}", response.text[:200], in_doubt=True)
        return response


def json_answer(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise ChannelError(
            "retry", f"http.{response.status_code}", "answer is not JSON", in_doubt=response.status_code < 300
        ) from None
    if not isinstance(data, dict):
        raise ChannelError("retry", f"http.{response.status_code}", "answer is not an object", in_doubt=True)
    return data
