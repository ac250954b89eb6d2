"""Provider clients registered only by the tests: one in memory, one over HTTP to a local fake
provider (:class:`FakeProvider`) that records acceptances and can hold its answer back, which
is how the exactly-once test kills a worker between the provider's acceptance and our commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from django.utils.translation import gettext_lazy as _

from autocrm.channels.base import (
    CallbackRejected,
    ChannelClient,
    ChannelError,
    InboundReply,
    Outgoing,
    SendResult,
    StatusReport,
    register,
)
from autocrm.channels.keepalive import Answer, KeepAlive, MaybeSent, NotSent


@register
class MemoryClient(ChannelClient):
    """Accepts into a class-level list; ``config["fail"]`` makes it raise a ChannelError kind
    (``retry``, ``blacklist``…) ``config["fail_times"]`` times (default always)."""

    provider = "test_memory"
    channel = "sms"
    label = _("SMS")  # a catalogue text: shown on the settings page in either language
    can_query = True
    sent: ClassVar[list[Outgoing]] = []
    failures: ClassVar[dict[str, int]] = {}

    def send(self, message: Outgoing) -> SendResult:
        kind = self.config.get("fail")
        if kind:
            times = int(self.config.get("fail_times", "1000"))
            n = MemoryClient.failures.get(message.message_id, 0)
            if n < times:
                MemoryClient.failures[message.message_id] = n + 1
                code = "FailedOperation.PhoneNumberInBlacklist" if kind == "blacklist" else f"E_{kind}"
                raise ChannelError(kind, code, "fake")  # type: ignore[arg-type]
        MemoryClient.sent.append(message)
        if self.config.get("lose_answer") and MemoryClient.failures.get(message.message_id, 0) == 0:
            # accepted, but the answer never reaches us (a read timeout)
            MemoryClient.failures[message.message_id] = 1
            err = ChannelError("retry", "ReadTimeout", "fake")
            err.in_doubt = True  # type: ignore[attr-defined,unused-ignore]  # h/sms adds the keyword
            raise err
        return SendResult(provider_id=f"p-{message.message_id}")

    def query(self, message_id: str, *, to: str, sent_at: dt.datetime) -> StatusReport | None:
        for m in MemoryClient.sent:
            if m.message_id == message_id:
                return StatusReport(provider_id=f"p-{message_id}", status="accepted", message_id=message_id)
        return None

    def parse_callback(
        self, *, headers: Mapping[str, str], body: bytes, query: Mapping[str, str], secret: str
    ) -> list[StatusReport | InboundReply]:
        """A JSON list, authenticated by the ``X-Secret`` header equal to the account's secret."""
        if not secret or headers.get("x-secret", headers.get("X-Secret", "")) != secret:
            raise CallbackRejected("bad secret")
        try:
            items = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise CallbackRejected("bad body") from None
        if not isinstance(items, list):
            raise CallbackRejected("bad body")
        out: list[StatusReport | InboundReply] = []
        for item in items:
            if not isinstance(item, dict):
                raise CallbackRejected("bad item")
            if item.get("type") == "reply":
                out.append(
                    InboundReply(
                        sender=str(item.get("from", "")),
                        text=str(item.get("text", "")),
                        event=str(item.get("event", "")),
                        data=item.get("data") or {},
                    )
                )
            else:
                out.append(
                    StatusReport(
                        provider_id=str(item.get("provider_id", "")),
                        message_id=str(item.get("id", "")),
                        status=item.get("status", "delivered"),
                        code=str(item.get("code", "")),
                        blacklisted=bool(item.get("blacklisted")),
                    )
                )
        return out

    @classmethod
    def reset(cls) -> None:
        cls.sent.clear()
        cls.failures.clear()


@register
class HttpFakeClient(ChannelClient):
    """Talks to :class:`FakeProvider`: ``POST /send`` (JSON ``{id, to, text}``), ``GET /query?id=``.
    ``config["can_query"] == "no"`` makes it a provider without a status query."""

    provider = "test_http"
    channel = "sms"
    label = _("SMS")
    can_query = True
    rate_per_second = 100000.0
    concurrent_sends = 4

    def __init__(self, config: Mapping[str, str], *, endpoint: str | None = None, timeout: float = 30.0):
        super().__init__(config, endpoint=endpoint, timeout=timeout)
        self._http = KeepAlive(endpoint or "", timeout=timeout)
        if config.get("can_query") == "no":
            self.can_query = False  # type: ignore[misc]

    def _call(self, method: str, path: str, payload: Any = None, params: Mapping[str, str] | None = None) -> Answer:
        try:
            if method == "POST":
                return self._http.post_json(path, payload)
            return self._http.get(path, params=params)
        except NotSent as exc:
            raise ChannelError("retry", "connect", str(exc)) from exc
        except MaybeSent as exc:
            raise ChannelError("retry", "no_answer", str(exc), in_doubt=True) from exc

    def send(self, message: Outgoing) -> SendResult:
        r = self._call("POST", "/send", {"id": message.message_id, "to": message.to, "text": message.text})
        if r.status_code == 429:
            raise ChannelError("rate_limited", "429")
        if r.status_code >= 500:
            raise ChannelError("retry", str(r.status_code))
        if r.status_code != 200:
            raise ChannelError("permanent", str(r.status_code))
        return SendResult(provider_id=r.json()["serial"])

    def query(self, message_id: str, *, to: str, sent_at: dt.datetime) -> StatusReport | None:
        r = self._call("GET", "/query", params={"id": message_id})
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise ChannelError("retry", str(r.status_code))
        return StatusReport(provider_id=r.json()["serial"], status="accepted", message_id=message_id)

    def close(self) -> None:
        self._http.close()

    parse_callback = MemoryClient.parse_callback  # receipts pushed back as JSON lists (the benchmark)


class FakeProvider:
    """A provider on loopback. ``hold``: accept (record) a send, then keep the answer back until
    :meth:`release` — the moment a worker may die with the provider holding the message."""

    def __init__(self, port: int, *, hold: bool = False, receipt_url: str | None = None, host: str = "127.0.0.1"):
        self.accepted: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.got_one = threading.Event()
        self.released = threading.Event()
        self.hold = hold
        self.receipt_url = receipt_url
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body leave in two writes: without this, Nagle + delayed ACK add 40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                item = json.loads(self.rfile.read(length))
                with provider.lock:
                    item["serial"] = f"S{len(provider.accepted) + 1}"
                    provider.accepted.append(item)
                provider.got_one.set()
                if provider.hold:
                    provider.released.wait(60)
                self._answer(200, {"serial": item["serial"]})

            def do_GET(self) -> None:
                q = parse_qs(urlsplit(self.path).query)
                wanted = (q.get("id") or [""])[0]
                with provider.lock:
                    found = [a for a in provider.accepted if a["id"] == wanted]
                if found:
                    self._answer(200, {"serial": found[0]["serial"]})
                else:
                    self._answer(404, {})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def count(self, message_id: str) -> int:
        with self.lock:
            return sum(1 for a in self.accepted if a["id"] == message_id)
