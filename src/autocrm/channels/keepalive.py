"""A lean keep-alive HTTP/1.1 client for provider calls on the delivery loop's hot path.

httpx costs about 0.7 ms of CPU a request (request and URL models, header validation, cookies,
h11's state machine) — more than everything else a worker does for a message. The standard
library's ``http.client`` on a kept-alive connection costs about 0.2 ms. :class:`KeepAlive` keeps
one connection per thread (the outbox sends a batch from a few threads at once), reconnects a
connection idle longer than :data:`IDLE_RECONNECT` (servers drop idle keep-alive connections;
reusing one would fail the next request after the server may or may not have read it) and
reports what failed by whether the request may have reached the provider:

- the connection could not be opened, or sending failed before a byte was written →
  :class:`NotSent` (a resend is safe);
- anything after the request was (partly) written → :class:`MaybeSent` (the provider may have
  accepted it: the outbox asks the provider before any resend, ADR 0013).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

IDLE_RECONNECT = 4.0  # seconds; below the usual server keep-alive timeouts (5 s and up)


class NotSent(OSError):
    """The request never left: resending is safe."""


class MaybeSent(OSError):
    """The request (or part of it) left and no complete answer came back. ``timed_out``: the
    answer did not come in time (rather than the connection failing)."""

    timed_out = False


class Answer:
    __slots__ = ("body", "status")

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class KeepAlive:
    """``KeepAlive("http://127.0.0.1:18400").post_json("/send", {...})`` → :class:`Answer`."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This thread's connection and whether it is fresh."""
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        last = getattr(self._local, "last", 0.0)
        if conn is not None and time.monotonic() - last < IDLE_RECONNECT:
            return conn, False
        if conn is not None:
            conn.close()
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout)
        try:
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as exc:
            conn.close()
            raise NotSent(str(exc)) from exc
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn, True

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Answer:
        conn, _fresh = self._connection()
        sent_any = False
        headers = headers or {}
        # A signed Host header (Tencent's TC3 signs it) is sent as given, not a second time.
        own_host = any(k.lower() == "host" for k in headers)
        try:
            conn.putrequest(method, self.prefix + path, skip_host=own_host, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            sent_any = True  # endheaders() writes: from here the provider may see the request
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            self._local.conn = None
            if not sent_any:
                raise NotSent(f"{type(exc).__name__}: {exc}") from exc
            failure = MaybeSent(f"{type(exc).__name__}: {exc}")
            failure.timed_out = isinstance(exc, TimeoutError)
            raise failure from exc
        if response.will_close:
            conn.close()
            self._local.conn = None
        self._local.last = time.monotonic()
        return Answer(response.status, data)

    def post_json(self, path: str, payload: Any, *, headers: Mapping[str, str] | None = None) -> Answer:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return self.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})

    def get(self, path: str, *, params: Mapping[str, str] | None = None) -> Answer:
        return self.request("GET", path + ("?" + urlencode(params) if params else ""))

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()
