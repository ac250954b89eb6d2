"""Local stand-ins for the providers, for tests and benchmarks: real HTTP on loopback that checks
every request as the provider documents it (signature, headers, parameters) and answers in the
provider's format.

* :class:`FakeServer` — a threaded ``http.server`` (HTTP/1.1 keep-alive) that records requests
  and offers fault injection (errors, HTTP 5xx, stalls held on a ``threading.Event``).
* :class:`FakeTencentSms` — Tencent Cloud SMS API 3.0: verifies TC3-HMAC-SHA256 with its own
  implementation of the documented steps (not the client's code), ``SendSms`` and
  ``PullSmsSendStatusByPhoneNumber``; builds status-report and reply pushes.
* :class:`FakeAliyunSms` — dysmsapi 2017-05-25: verifies the RPC HMAC-SHA1 signature, the nonce
  and the timestamp, ``SendSms`` and ``QuerySendDetails``; builds SmsReport and SmsUp pushes.

The fakes remember every accepted message (by our message id) for their lifetime, so a second
client — another worker, another process — finds it with ``query``. Start one in a thread::

    with FakeTencentSms() as fake:           # port 0: any free port; fake.url is the endpoint
        client = TencentSmsClient(fake.client_config(), endpoint=fake.url)

or in a separate process on a known port (its state then reached over HTTP)::

    python -m autocrm.channels.testing.servers tencent --port 18301 [--callback-url URL]

which prints ``READY http://127.0.0.1:18301`` and serves until killed. Control endpoints (both
fakes): ``GET /_fake/messages`` (accepted messages as JSON), ``POST /_fake/control`` with
``{"action": "fail_next", "code": "...", "times": 1}``, ``{"action": "stall_next", "times": 1,
"accept": true}``, ``{"action": "release"}``, ``{"action": "http_error_next", "status": 502}``,
``{"action": "reset"}``.
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import datetime as dt
import hashlib
import hmac
import itertools
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlsplit
from zoneinfo import ZoneInfo

import httpx

SHANGHAI = ZoneInfo("Asia/Shanghai")
STALL_LIMIT_SECONDS = 30.0  # a stalled answer is released by the test, or given up after this


@dataclasses.dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("ascii"), keep_blank_values=True))


@dataclasses.dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"


@dataclasses.dataclass
class Accepted:
    """A message the fake provider accepted."""

    message_id: str
    provider_id: str
    phone: str  # as the provider writes it (Tencent E.164, Aliyun 11 digits)
    template: str
    params: Any
    sign_name: str
    accepted_at: dt.datetime
    receipt_at: dt.datetime | None = None  # None: no receipt yet
    delivered: bool = True
    error_code: str = ""

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["accepted_at"] = self.accepted_at.isoformat()
        data["receipt_at"] = self.receipt_at.isoformat() if self.receipt_at else None
        return data


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the providers' gateways
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.fake.lock:
            self.server.fake.connections += 1

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            at=time.time(),
        )
        answer = self.server.fake.dispatch(request)
        if answer is None:  # the connection dropped without an answer
            self.close_connection = True
            return
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeServer


class FakeServer:
    """A provider on loopback. Subclasses implement :meth:`handle`."""

    name: ClassVar[str] = "fake"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, record_limit: int = 10_000):
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self
        self._thread: threading.Thread | None = None
        self.requests: collections.deque[RecordedRequest] = collections.deque(maxlen=record_limit)
        self.lock = threading.RLock()
        self._failures: collections.deque[tuple[str, str]] = collections.deque()
        self._http_errors: collections.deque[int] = collections.deque()
        self._stalls: collections.deque[bool] = collections.deque()
        self.released = threading.Event()
        self.stalled = threading.Event()  # set when a request is being held (the test waits on it)
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
        self.messages: dict[str, Accepted] = {}
        self.connections = 0  # TCP connections opened by clients (keep-alive keeps this at one)

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.name}-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- fault injection ------------------------------------------------------------------------

    def fail_next(self, code: str, message: str = "", *, times: int = 1) -> None:
        """The next ``times`` sends are refused with the provider error ``code``."""
        with self.lock:
            self._failures.extend([(code, message or code)] * times)

    def http_error_next(self, status: int = 502, *, times: int = 1) -> None:
        with self.lock:
            self._http_errors.extend([status] * times)

    def stall_next(self, *, times: int = 1, accept: bool = True) -> None:
        """Hold the answer of the next ``times`` sends until :meth:`release` (or 30 s). With
        ``accept`` the message is accepted first: the in-doubt case, the provider has it but the
        client never hears."""
        with self.lock:
            self.released.clear()
            self._stalls.extend([accept] * times)

    def release(self) -> None:
        self.released.set()

    def reset(self) -> None:
        with self.lock:
            self._failures.clear()
            self._http_errors.clear()
            self._stalls.clear()
            self.messages.clear()
            self.requests.clear()
        self.released.set()

    def _next_fault(self) -> tuple[int | None, tuple[str, str] | None, bool | None]:
        with self.lock:
            status = self._http_errors.popleft() if self._http_errors else None
            failure = self._failures.popleft() if self._failures and status is None else None
            stall = self._stalls.popleft() if self._stalls and status is None and failure is None else None
        return status, failure, stall

    def _hold(self) -> None:
        self.stalled.set()
        self.released.wait(STALL_LIMIT_SECONDS)

    # -- dispatch -------------------------------------------------------------------------------

    def dispatch(self, request: RecordedRequest) -> Answer | None:
        with self.lock:
            self.requests.append(request)
        if request.path.startswith("/_fake/"):
            return self._control(request)
        return self.handle(request)

    def handle(self, request: RecordedRequest) -> Answer | None:
        raise NotImplementedError

    def _control(self, request: RecordedRequest) -> Answer:
        if request.path == "/_fake/messages":
            with self.lock:
                data = [m.as_json() for m in self.messages.values()]
            return _json(200, data)
        if request.path == "/_fake/control" and request.method == "POST":
            try:
                command = json.loads(request.body or b"{}")
                action = command.get("action")
                if action == "fail_next":
                    self.fail_next(command["code"], command.get("message", ""), times=int(command.get("times", 1)))
                elif action == "http_error_next":
                    self.http_error_next(int(command.get("status", 502)), times=int(command.get("times", 1)))
                elif action == "stall_next":
                    self.stall_next(times=int(command.get("times", 1)), accept=bool(command.get("accept", True)))
                elif action == "release":
                    self.release()
                elif action == "reset":
                    self.reset()
                else:
                    return _json(400, {"error": "unknown action"})
            except (ValueError, KeyError, TypeError, AttributeError):
                return _json(400, {"error": "bad command"})
            return _json(200, {"ok": True})
        return _json(404, {"error": "not found"})

    # -- receipts -------------------------------------------------------------------------------

    def accepted(self, message_id: str) -> Accepted | None:
        with self.lock:
            return self.messages.get(message_id)

    def deliver(self, message_id: str, *, delivered: bool = True, error_code: str = "") -> Accepted:
        """The operator's receipt for a message came back (now)."""
        with self.lock:
            message = self.messages[message_id]
            message.receipt_at = self.clock()
            message.delivered = delivered
            message.error_code = error_code
        self._receipt_came(message)
        return message

    def _receipt_came(self, message: Accepted) -> None:
        """A receipt is due to the callback URL (the SMS fakes push it)."""


class CallbackSink(FakeServer):
    """Stands in for our callback endpoint in tests of the pushes: records each body, answers 200."""

    name = "sink"

    def __init__(self, *, answer: bytes = b'{"result":0,"errmsg":"OK"}', **kwargs: Any):
        super().__init__(**kwargs)
        self.answer = answer
        self.bodies: list[bytes] = []

    def handle(self, request: RecordedRequest) -> Answer | None:
        with self.lock:
            self.bodies.append(request.body)
        return Answer(200, self.answer)


def _json(status: int, data: Any) -> Answer:
    return Answer(status, json.dumps(data, ensure_ascii=False).encode("utf-8"))


class _ReceiptPusher:
    """Posts receipts to a callback URL from a thread of its own, in batches (as the providers do)."""

    def __init__(self, url: str, build: Callable[[list[Accepted]], bytes]):
        self.url = url
        self.build = build
        self.queue: queue.Queue[Accepted | None] = queue.Queue()
        self.pushed = 0
        self.failed = 0
        self.thread = threading.Thread(target=self._run, name="receipt-pusher", daemon=True)
        self.thread.start()

    def put(self, message: Accepted) -> None:
        self.queue.put(message)

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)

    def _run(self) -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            while True:
                first = self.queue.get()
                if first is None:
                    return
                batch = [first]
                while len(batch) < 100:
                    try:
                        item = self.queue.get(timeout=0.01)
                    except queue.Empty:
                        break
                    if item is None:
                        self._post(client, batch)
                        return
                    batch.append(item)
                self._post(client, batch)

    def _post(self, client: httpx.Client, batch: list[Accepted]) -> None:
        try:
            response = client.post(self.url, content=self.build(batch), headers={"Content-Type": "application/json"})
            if response.status_code == 200:
                self.pushed += len(batch)
            else:
                self.failed += len(batch)
        except httpx.HTTPError:
            self.failed += len(batch)


class _ProviderFake(FakeServer):
    """What both SMS fakes share: acceptance, receipts (immediate by default), pushes."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        receipts: str = "immediate",
        callback_url: str | None = None,
        templates: Iterable[str] | None = None,
        sign_names: Iterable[str] | None = None,
    ):
        super().__init__(host=host, port=port)
        if receipts not in ("immediate", "manual"):
            raise ValueError("receipts is 'immediate' or 'manual'")
        self.receipts = receipts
        self.templates = set(templates) if templates is not None else None
        self.sign_names = set(sign_names) if sign_names is not None else None
        self.phone_errors: dict[str, str] = {}  # phone (provider format) → error code for every send
        self._serial = itertools.count(1)
        self._pusher = _ReceiptPusher(callback_url, self.receipt_push) if callback_url else None

    def stop(self) -> None:
        if self._pusher:
            self._pusher.stop()
        super().stop()

    def _accept(self, **fields: Any) -> Accepted:
        now = self.clock()
        message = Accepted(accepted_at=now, **fields)
        if self.receipts == "immediate":
            message.receipt_at = now
        with self.lock:
            self.messages[message.message_id] = message
        if message.receipt_at is not None:
            self._receipt_came(message)
        return message

    def _receipt_came(self, message: Accepted) -> None:
        if self._pusher:
            self._pusher.put(message)

    def client_config(self, **overrides: str) -> dict[str, str]:
        """The configuration a client needs to be accepted by this fake."""
        raise NotImplementedError

    def receipt_push(self, messages: list[Accepted]) -> bytes:
        raise NotImplementedError

    def reply_push(self, phone: str, text: str, *, at: dt.datetime | None = None) -> bytes:
        raise NotImplementedError


# ----------------------------------------------------------------------------------------------
# Tencent Cloud SMS


def tc3_signature_for(
    *,
    secret_key: str,
    method: str,
    headers: Mapping[str, str],
    signed: list[str],
    body: bytes,
    timestamp: int,
    service: str,
) -> str:
    """The fake's own reading of "签名方法 v3": written from the documentation, separately from the
    client's ``signing`` module, and checked against the documentation's worked example."""
    day = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    lowered = {name.lower(): value for name, value in headers.items()}
    header_block = ""
    for name in sorted(signed):
        header_block += name + ":" + lowered.get(name, "").strip().lower() + "\n"
    canonical = method + "\n/\n\n" + header_block + "\n" + ";".join(sorted(signed)) + "\n"
    canonical += hashlib.sha256(body).hexdigest()
    scope = f"{day}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (day, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


_TC3_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


class FakeTencentSms(_ProviderFake):
    name = "tencent"
    VERSION = "2021-01-11"

    def __init__(
        self,
        *,
        secret_id: str = "AKIDfakeTencentSecretId",  # noqa: S107 - a fake
        secret_key: str = "fake-tencent-secret-key",  # noqa: S107 - a fake
        sdk_app_id: str = "1400006666",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.sdk_app_id = sdk_app_id

    def client_config(self, **overrides: str) -> dict[str, str]:
        return {
            "secret_id": self.secret_id,
            "secret_key": self.secret_key,
            "sdk_app_id": self.sdk_app_id,
            "sign_name": "腾讯云",
            **overrides,
        }

    @staticmethod
    def _error(code: str, message: str = "") -> Answer:
        return _json(
            200, {"Response": {"Error": {"Code": code, "Message": message or code}, "RequestId": str(uuid.uuid4())}}
        )

    def _verify(self, request: RecordedRequest) -> Answer | None:
        """Everything the API 3.0 gateway checks before the action runs; an error answer or None."""
        if request.method != "POST" or request.path != "/":
            return self._error("InvalidAction", "POST / only")
        headers = request.headers
        if not headers.get("content-type", "").startswith("application/json"):
            return self._error("InvalidParameter", "Content-Type must be application/json")
        for name in ("x-tc-action", "x-tc-version", "x-tc-timestamp", "x-tc-region", "authorization", "host"):
            if not headers.get(name):
                return self._error("MissingParameter", f"{name} missing")
        if headers["x-tc-version"] != self.VERSION:
            return self._error("NoSuchVersion", headers["x-tc-version"])
        try:
            timestamp = int(headers["x-tc-timestamp"])
        except ValueError:
            return self._error("InvalidParameter", "X-TC-Timestamp")
        if abs(self.clock().timestamp() - timestamp) > 300:
            return self._error("AuthFailure.SignatureExpire", "signature expired")
        match = _TC3_AUTH.match(headers["authorization"])
        if not match:
            return self._error("AuthFailure.InvalidAuthorization", "Authorization malformed")
        if match["id"] != self.secret_id:
            return self._error("AuthFailure.SecretIdNotFound", "SecretId not found")
        signed = match["signed"].split(";")
        if match["service"] != "sms" or "content-type" not in signed or "host" not in signed:
            return self._error("AuthFailure.InvalidAuthorization", "scope or signed headers")
        if match["date"] != time.strftime("%Y-%m-%d", time.gmtime(timestamp)):
            return self._error("AuthFailure.SignatureFailure", "credential date is not the timestamp's UTC date")
        expected = tc3_signature_for(
            secret_key=self.secret_key,
            method="POST",
            headers=headers,
            signed=signed,
            body=request.body,
            timestamp=timestamp,
            service="sms",
        )
        if not hmac.compare_digest(expected, match["sig"]):
            return self._error("AuthFailure.SignatureFailure", "signature mismatch")
        return None

    def handle(self, request: RecordedRequest) -> Answer | None:
        refused = self._verify(request)
        if refused is not None:
            return refused
        try:
            params = request.json()
        except ValueError:
            return self._error("FailedOperation.JsonParseFail", "body is not JSON")
        if not isinstance(params, dict):
            return self._error("FailedOperation.JsonParseFail", "body is not an object")
        action = request.headers["x-tc-action"]
        if action == "SendSms":
            return self._send(params)
        if action == "PullSmsSendStatusByPhoneNumber":
            return self._pull(params)
        return self._error("InvalidAction", action)

    def _send(self, params: dict[str, Any]) -> Answer | None:
        phones = params.get("PhoneNumberSet")
        if not isinstance(phones, list) or not phones:
            return self._error("MissingParameter.EmptyPhoneNumberSet")
        if len(phones) > 200:
            return self._error("LimitExceeded.PhoneNumberCountLimit")
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist")
        template = params.get("TemplateId")
        if (
            not isinstance(template, str)
            or not template
            or (self.templates is not None and template not in self.templates)
        ):
            return self._error("FailedOperation.TemplateIncorrectOrUnapproved")
        sign_name = params.get("SignName", "")
        if self.sign_names is not None and sign_name not in self.sign_names:
            return self._error("FailedOperation.SignatureIncorrectOrUnapproved")
        template_params = params.get("TemplateParamSet", [])
        if not isinstance(template_params, list) or not all(isinstance(p, str) for p in template_params):
            return self._error("InvalidParameterValue.TemplateParameterFormatError")
        context = params.get("SessionContext", "")
        if not isinstance(context, str) or len(context.encode()) >= 512:
            return self._error("InvalidParameterValue", "SessionContext")
        status_code, failure, stall = self._next_fault()
        if status_code is not None:
            return Answer(status_code, b"<html>bad gateway</html>", "text/html")
        statuses = []
        for phone in phones:
            if not isinstance(phone, str) or not re.fullmatch(r"\+\d{6,15}", phone):
                statuses.append(self._status(phone, "InvalidParameterValue.IncorrectPhoneNumber", context))
                continue
            code = failure[0] if failure else self.phone_errors.get(phone)
            if code:
                statuses.append(self._status(phone, code, context, failure[1] if failure else code))
                continue
            serial = f"2645:{next(self._serial):010d}{uuid.uuid4().hex[:8]}"
            self._accept(
                message_id=context,
                provider_id=serial,
                phone=phone,
                template=template,
                params=template_params,
                sign_name=sign_name,
            )
            statuses.append(
                {
                    "SerialNo": serial,
                    "PhoneNumber": phone,
                    "Fee": 1,
                    "SessionContext": context,
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            )
        if stall is not None:
            self._hold()
            return None
        return _json(200, {"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}})

    @staticmethod
    def _status(phone: Any, code: str, context: str, message: str = "") -> dict[str, Any]:
        return {
            "SerialNo": "",
            "PhoneNumber": phone,
            "Fee": 0,
            "SessionContext": context,
            "Code": code,
            "Message": message or code,
            "IsoCode": "",
        }

    def _pull(self, params: dict[str, Any]) -> Answer:
        try:
            begin, end = int(params["BeginTime"]), int(params["EndTime"])
            limit, offset = int(params["Limit"]), int(params["Offset"])
            phone = str(params["PhoneNumber"])
        except (KeyError, TypeError, ValueError):
            return self._error("MissingParameter", "BeginTime, EndTime, Offset, Limit, PhoneNumber")
        if params.get("SmsSdkAppId") != self.sdk_app_id:
            return self._error("InvalidParameterValue.SdkAppIdNotExist")
        if offset != 0:
            return self._error("InvalidParameterValue.OffsetVerifyFail", "Offset is fixed at 0")
        if not 0 < limit <= 100:
            return self._error("InvalidParameterValue.LimitVerifyFail")
        if begin > end:
            return self._error("InvalidParameterValue.InvalidStartTime")
        if begin < self.clock().timestamp() - 7 * 86400:
            return self._error("InvalidParameterValue.BeginTimeVerifyFail", "7 days at most")
        with self.lock:
            listed = sorted(
                (
                    m
                    for m in self.messages.values()
                    if m.phone == phone and m.receipt_at is not None and begin <= int(m.receipt_at.timestamp()) <= end
                ),
                key=lambda m: m.receipt_at or m.accepted_at,
            )[:limit]
        entries = [
            {
                "UserReceiveTime": int((m.receipt_at or m.accepted_at).timestamp()),
                "CountryCode": "86",
                "SubscriberNumber": m.phone.removeprefix("+86"),
                "PhoneNumber": m.phone,
                "SerialNo": m.provider_id,
                "ReportStatus": "SUCCESS" if m.delivered else "FAIL",
                "Description": "用户短信送达成功" if m.delivered else (m.error_code or "发送失败"),
                "SessionContext": m.message_id,
            }
            for m in listed
        ]
        return _json(200, {"Response": {"PullSmsSendStatusSet": entries, "RequestId": str(uuid.uuid4())}})

    # pushes, in the documented formats ---------------------------------------------------------

    def receipt_push(self, messages: list[Accepted]) -> bytes:
        return json.dumps(
            [
                {
                    "user_receive_time": (m.receipt_at or m.accepted_at)
                    .astimezone(SHANGHAI)
                    .strftime("%Y-%m-%d %H:%M:%S"),
                    "nationcode": "86",
                    "mobile": m.phone.removeprefix("+86"),
                    "report_status": "SUCCESS" if m.delivered else "FAIL",
                    "errmsg": "DELIVRD" if m.delivered else (m.error_code or "UNDELIV"),
                    "description": "用户短信送达成功" if m.delivered else (m.error_code or "用户短信未送达"),
                    "sid": m.provider_id,
                    "ext": m.message_id,
                }
                for m in messages
            ],
            ensure_ascii=False,
        ).encode("utf-8")

    def reply_push(self, phone: str, text: str, *, at: dt.datetime | None = None) -> bytes:
        return json.dumps(
            {
                "extend": "",
                "mobile": phone.removeprefix("+86"),
                "nationcode": "86",
                "sign": "腾讯云",
                "text": text,
                "time": int((at or self.clock()).timestamp()),
            },
            ensure_ascii=False,
        ).encode("utf-8")


# ----------------------------------------------------------------------------------------------
# Alibaba Cloud SMS


def aliyun_rpc_signature_for(secret: str, method: str, params: Mapping[str, str]) -> str:
    """The fake's own reading of the RPC signature (SignatureVersion 1.0): RFC 3986 encoding of
    each name and value, sorted, joined, encoded again, HMAC-SHA1 with ``secret&``, Base64."""

    def encode(text: str) -> str:
        return quote(text.encode("utf-8"), safe=b"-_.~")

    query = "&".join(encode(k) + "=" + encode(v) for k, v in sorted(params.items()) if k != "Signature")
    to_sign = method + "&" + encode("/") + "&" + encode(query)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class FakeAliyunSms(_ProviderFake):
    name = "aliyun"
    VERSION = "2017-05-25"

    def __init__(
        self,
        *,
        access_key_id: str = "LTAIfakeAliyunKeyId",
        access_key_secret: str = "fake-aliyun-key-secret",  # noqa: S107 - a fake
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self._nonces: set[str] = set()

    def client_config(self, **overrides: str) -> dict[str, str]:
        return {
            "access_key_id": self.access_key_id,
            "access_key_secret": self.access_key_secret,
            "sign_name": "阿里云短信测试",
            **overrides,
        }

    @staticmethod
    def _error(code: str, message: str = "", status: int = 200) -> Answer:
        return _json(status, {"Code": code, "Message": message or code, "RequestId": str(uuid.uuid4())})

    def _verify(self, request: RecordedRequest) -> tuple[dict[str, str], Answer | None]:
        if request.method == "POST":
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                return {}, self._error("InvalidParameter", "form body expected", 400)
            try:
                params = request.form()
            except UnicodeDecodeError:
                return {}, self._error("InvalidParameter", "body is not ASCII", 400)
        else:
            params = dict(request.query)
        for name in (
            "AccessKeyId",
            "Action",
            "Format",
            "SignatureMethod",
            "SignatureNonce",
            "SignatureVersion",
            "Signature",
            "Timestamp",
            "Version",
        ):
            if not params.get(name):
                return params, self._error(
                    f"MissingParameter.{name}" if name != "Signature" else "IncompleteSignature", name, 400
                )
        if params["Version"] != self.VERSION:
            return params, self._error("InvalidVersion", params["Version"], 400)
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return params, self._error("InvalidParameter.SignatureMethod", "HMAC-SHA1 1.0", 400)
        try:
            stamp = dt.datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return params, self._error("InvalidTimeStamp.Format", params["Timestamp"], 400)
        if abs((self.clock() - stamp).total_seconds()) > 900:
            return params, self._error("InvalidTimeStamp.Expired", "timestamp expired", 400)
        if params["AccessKeyId"] != self.access_key_id:
            return params, self._error("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        expected = aliyun_rpc_signature_for(self.access_key_secret, request.method, params)
        if not hmac.compare_digest(expected, params["Signature"]):
            return params, self._error(
                "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.", 400
            )
        with self.lock:
            if params["SignatureNonce"] in self._nonces:
                return params, self._error("SignatureNonceUsed", "Specified signature nonce was used already.", 400)
            self._nonces.add(params["SignatureNonce"])
        if params["Format"] != "JSON":
            return params, self._error("InvalidParameter.Format", "the fake answers JSON only", 400)
        return params, None

    def handle(self, request: RecordedRequest) -> Answer | None:
        params, refused = self._verify(request)
        if refused is not None:
            return refused
        if params["Action"] == "SendSms":
            return self._send(params)
        if params["Action"] == "QuerySendDetails":
            return self._query(params)
        return self._error("InvalidAction.NotFound", params["Action"], 404)

    def _send(self, params: dict[str, str]) -> Answer | None:
        phone = params.get("PhoneNumbers", "")
        if not re.fullmatch(r"1\d{10}|[2-9]\d{6,14}", phone):
            return self._error("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        sign_name = params.get("SignName", "")
        if not sign_name or (self.sign_names is not None and sign_name not in self.sign_names):
            return self._error("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法")
        template = params.get("TemplateCode", "")
        if not template or (self.templates is not None and template not in self.templates):
            return self._error("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法")
        template_params: Any = {}
        if params.get("TemplateParam"):
            try:
                template_params = json.loads(params["TemplateParam"])
            except ValueError:
                return self._error("isv.INVALID_JSON_PARAM", "JSON参数不合法")
            if not isinstance(template_params, dict) or not all(isinstance(v, str) for v in template_params.values()):
                return self._error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值")
        status_code, failure, stall = self._next_fault()
        if status_code is not None:
            return Answer(status_code, b"<html>bad gateway</html>", "text/html")
        code = failure[0] if failure else self.phone_errors.get(phone)
        if code:
            return self._error(code, failure[1] if failure else code)
        biz_id = f"{next(self._serial):06d}{int(time.time()) % 10**9:09d}^0"
        self._accept(
            message_id=params.get("OutId", ""),
            provider_id=biz_id,
            phone=phone,
            template=template,
            params=template_params,
            sign_name=sign_name,
        )
        if stall is not None:
            self._hold()
            return None
        return _json(200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": str(uuid.uuid4())})

    def _query(self, params: dict[str, str]) -> Answer:
        phone = params.get("PhoneNumber", "")
        try:
            day = dt.datetime.strptime(params.get("SendDate", ""), "%Y%m%d").date()  # noqa: DTZ007 - a date
            size, page = int(params.get("PageSize", "")), int(params.get("CurrentPage", ""))
        except ValueError:
            return self._error("isv.INVALID_PARAMETERS", "SendDate yyyyMMdd, PageSize, CurrentPage")
        if not 1 <= size <= 50 or page < 1:
            return self._error("isv.INVALID_PARAMETERS", "PageSize 1-50")
        if day < (self.clock().astimezone(SHANGHAI) - dt.timedelta(days=30)).date():
            return self._error("isv.INVALID_PARAMETERS", "30 days at most")
        with self.lock:
            listed = sorted(
                (
                    m
                    for m in self.messages.values()
                    if m.phone == phone and m.accepted_at.astimezone(SHANGHAI).date() == day
                ),
                key=lambda m: m.accepted_at,
            )
        window = listed[(page - 1) * size : page * size]
        details = [
            {
                "PhoneNum": m.phone,
                "SendStatus": (3 if m.delivered else 2) if m.receipt_at else 1,
                "ErrCode": ("DELIVERED" if m.delivered else (m.error_code or "UNDELIV")) if m.receipt_at else "",
                "TemplateCode": m.template,
                "Content": f"【{m.sign_name}】…",
                "SendDate": m.accepted_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                "ReceiveDate": m.receipt_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if m.receipt_at else "",
                "OutId": m.message_id,
            }
            for m in window
        ]
        return _json(
            200,
            {
                "Code": "OK",
                "Message": "OK",
                "RequestId": str(uuid.uuid4()),
                "TotalCount": len(listed),
                "SmsSendDetailDTOs": {"SmsSendDetailDTO": details},
            },
        )

    def receipt_push(self, messages: list[Accepted]) -> bytes:
        return json.dumps(
            [
                {
                    "phone_number": m.phone,
                    "send_time": m.accepted_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                    "report_time": (m.receipt_at or m.accepted_at).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                    "success": m.delivered,
                    "err_code": "DELIVERED" if m.delivered else (m.error_code or "UNDELIV"),
                    "err_msg": "用户接收成功" if m.delivered else (m.error_code or "用户接收失败"),
                    "sms_size": "1",
                    "biz_id": m.provider_id,
                    "out_id": m.message_id,
                }
                for m in messages
            ],
            ensure_ascii=False,
        ).encode("utf-8")

    def reply_push(self, phone: str, text: str, *, at: dt.datetime | None = None) -> bytes:
        return json.dumps(
            [
                {
                    "phone_number": phone.removeprefix("+86"),
                    "send_time": (at or self.clock()).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                    "content": text,
                    "sign_name": "【阿里云短信测试】",
                    "dest_code": "1234",
                    "sequence_id": 1234567890,
                }
            ],
            ensure_ascii=False,
        ).encode("utf-8")


FAKES: dict[str, type[_ProviderFake]] = {"tencent": FakeTencentSms, "aliyun": FakeAliyunSms}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake SMS provider on loopback until killed.")
    parser.add_argument("provider", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--callback-url", default=None, help="push receipts here (the store's callback URL)")
    parser.add_argument("--receipts", choices=("immediate", "manual"), default="immediate")
    args = parser.parse_args(argv)
    fake = FAKES[args.provider](port=args.port, callback_url=args.callback_url, receipts=args.receipts)
    print(f"READY {fake.url} {json.dumps(fake.client_config(), ensure_ascii=False)}", flush=True)
    try:
        fake._httpd.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
