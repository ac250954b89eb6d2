"""What the two SMS clients (Tencent Cloud, Alibaba Cloud) share: the kept-alive HTTP connections
and their failure kinds, the callback-parsing loop, mobile numbers, and the checks on callbacks that the providers do not sign.

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import phonenumbers
from django.utils.translation import gettext_lazy as _

from autocrm.channels.base import CallbackRejected, ChannelClient, ChannelError, InboundReply, StatusReport
from autocrm.channels.keepalive import Answer, KeepAlive, MaybeSent, NotSent

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


Push = StatusReport | InboundReply


def parse_pushes(
    *,
    body: bytes,
    query: Mapping[str, str],
    secret: str,
    kinds: Sequence[tuple[str, Callable[[Mapping[str, Any], dt.datetime], Push]]],
    neither: str,
) -> list[Push]:
    """One unsigned push of either provider: the URL's secret checked, the body one JSON object or
    an array of them, each item parsed by the first of ``kinds`` whose key it has (``(key,
    parse)``; ``parse(item, now)`` checks its fields and freshness); an item with none of the
    keys rejects the whole push (``neither``)."""
    check_url_secret(query, secret)
    now = dt.datetime.now(dt.UTC)
    parsed: list[Push] = []
    for item in as_items(parse_json_body(body)):
        for key, parse in kinds:
            if key in item:
                parsed.append(parse(item, now))
                break
        else:
            raise CallbackRejected(neither)
    return parsed


class PooledHttpClient(ChannelClient):
    """The provider's API over :class:`~autocrm.channels.keepalive.KeepAlive`: one kept-alive
    connection per sending thread (the outbox sends a batch from several threads at once), the
    standard library's lean HTTP/1.1 instead of httpx on the delivery loop's hot path."""

    # A batch's sends in flight at once on this client (threads, each on its own connection):
    # a provider answers in tens of milliseconds, so one at a time would cap a worker far below
    # the provider's rate.
    concurrent_sends = 16
    # How long after sending a message missing from the provider's records may still be in flight:
    # within it ``query`` raises an in-doubt ``retry`` instead of answering "no record". A store's
    # config may override it (``query_settle_seconds``; the fakes' tests set 0).
    query_settle: ClassVar[dt.timedelta] = dt.timedelta(seconds=60)

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 5.0):
        super().__init__(config, endpoint=endpoint, timeout=timeout)
        self._http_lock = threading.Lock()
        self._http: KeepAlive | None = None

    @property
    def _url(self) -> str:
        raise NotImplementedError

    @property
    def http(self) -> KeepAlive:
        if self._http is None:
            with self._http_lock:
                if self._http is None:
                    self._http = KeepAlive(self._url, timeout=self.timeout)
        return self._http

    #: The provider's unsigned pushes: (a key only that kind of item has, the name of the
    #: static method parsing such an item with ``(item, now)``), and the refusal of an item
    #: that is none of them.
    push_kinds: ClassVar[tuple[tuple[str, str], ...]] = ()
    push_neither: ClassVar[str] = "not a push of this provider"

    def parse_callback(
        self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str], secret: str
    ) -> list[StatusReport | InboundReply]:
        kinds = [(key, getattr(self, name)) for key, name in self.push_kinds]
        return parse_pushes(body=body, query=query, secret=secret, kinds=kinds, neither=self.push_neither)

    def _settle(self) -> dt.timedelta:
        override = self.config.get("query_settle_seconds")
        if override in (None, ""):
            return self.query_settle
        try:
            return dt.timedelta(seconds=max(0.0, float(override)))
        except (TypeError, ValueError):
            return self.query_settle

    def _not_found(self, *, now: dt.datetime, sent_at: dt.datetime, code: str, text: str) -> None:
        """The provider has no record of the message: conclusive (resending is safe) only once
        :meth:`_settle` has passed since ``sent_at``; before, this raises an in-doubt ``retry``
        for when it has."""
        waited = now - sent_at
        if waited < self._settle():
            raise ChannelError(
                "retry", code, text, retry_after=(self._settle() - waited).total_seconds(), in_doubt=True
            )

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _post(self, path: str, *, content: bytes, headers: Mapping[str, str]) -> Answer:
        """POST to the API's ``path``, turning transport failures into ``retry`` errors:
        ``in_doubt`` when the request may have reached the provider (it was written, then the
        answer was lost or late), not when it never left (the connection could not be opened)."""
        try:
            response = self.http.request("POST", path, body=content, headers=headers)
        except NotSent as exc:
            raise ChannelError("retry", "network.connect", str(exc)) from exc
        except MaybeSent as exc:
            code = "network.timeout" if exc.timed_out else "network.error"
            raise ChannelError("retry", code, str(exc), in_doubt=True) from exc
        if response.status_code >= 500:
            # A gateway error says nothing about whether the message went: in doubt.
            raise ChannelError("retry", f"http.{response.status_code}", response.text[:200], in_doubt=True)
        return response


def json_answer(response: Answer) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise ChannelError(
            "retry", f"http.{response.status_code}", "answer is not JSON", in_doubt=response.status_code < 300
        ) from None
    if not isinstance(data, dict):
        raise ChannelError("retry", f"http.{response.status_code}", "answer is not an object", in_doubt=True)
    return data
