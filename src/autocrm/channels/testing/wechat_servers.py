"""A local stand-in for ``api.weixin.qq.com`` and ``qyapi.weixin.qq.com`` that checks what the
real servers check, and builders of signed WeChat pushes.

Start it from any test::

    from autocrm.channels.testing.wechat_servers import FakeWeixin

    with FakeWeixin(apps={"wx123": "secret"}) as weixin:       # 127.0.0.1, a free port
        client = OfficialAccountClient({"app_id": "wx123", "app_secret": "secret"}, endpoint=weixin.url)
        client.send(...)
        weixin.sent[-1]["body"]                                 # what WeChat received

It issues access tokens with an expiry (``expires_in``), answers 42001 for an expired token and
40001 for an unknown or revoked one, 41001 for a missing one; ``expire(token)`` ends a token
early, ``revoke(token)`` makes it invalid while ``stable_token``'s ordinary mode still hands
it out (so only ``force_refresh`` gets a new one). Bodies are checked field by field per API
(47001 on a wrong shape, as WeChat answers "data format error"). ``followers``, ``refused``,
``grants`` and ``wecom_users`` model the recipients; ``script(path, answer)`` makes the next
call to ``path`` answer ``answer`` (e.g. ``{"errcode": -1}``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from autocrm.channels.wechat import push

SUBSCRIBE_STATES = {"developer", "trial", "formal"}
LANGS = {"zh_CN", "en_US", "zh_HK", "zh_TW"}
CLIENT_MSG_WINDOW = 600


@dataclass
class IssuedToken:
    owner: str  # appid, or "corpid:agentid"
    expires_at: float
    revoked: bool = False


def _is_value_map(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(key, str) and isinstance(value, dict) and set(value) == {"value"} and isinstance(value["value"], str)
        for key, value in data.items()
    )


class FakeWeixin:
    def __init__(
        self,
        *,
        apps: Mapping[str, str] | None = None,
        wecom_apps: Mapping[tuple[str, str], int] | None = None,
        expires_in: int = 7200,
        token_delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.apps = dict(apps or {})  # appid → AppSecret
        self.wecom_apps = dict(wecom_apps or {})  # (corpid, secret) → agentid
        self.expires_in = expires_in
        # Seconds a token answer takes (the tests widen the race of two workers fetching at once).
        self.token_delay = token_delay
        # Seconds a message send's answer takes *after* the message was accepted (a lost answer).
        self.send_delay = 0.0
        self.tokens: dict[str, IssuedToken] = {}
        self.current: dict[str, str] = {}  # owner → the stable token
        self.requests: list[dict[str, Any]] = []  # every request: method, path, query, body
        self.token_fetches: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []  # accepted messages: path, body, msgid
        self.delivered: list[dict[str, Any]] = []  # what reached a person (after de-duplication)
        self.followers: set[str] | None = None  # None: every openid follows the account
        self.refused: set[str] = set()  # openids that refused the account's messages (43101)
        self.grants: dict[tuple[str, str], int] | None = None  # (openid, template_id) → grants left
        self.wecom_users: set[str] | None = None  # None: every userid exists
        self._client_msg_ids: dict[tuple[str, str], tuple[int, float]] = {}
        self._wecom_recent: dict[str, float] = {}
        self._scripted: dict[str, list[dict[str, Any]]] = {}
        self._msgids = itertools.count(2_000_000_001)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeWeixin:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> FakeWeixin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- control --------------------------------------------------------------------------
    def expire(self, token: str) -> None:
        """End ``token`` now (the next call with it answers 42001)."""
        with self._lock:
            self.tokens[token].expires_at = time.time() - 1

    def revoke(self, token: str) -> None:
        """Make ``token`` invalid (40001) while stable_token's ordinary mode still returns it."""
        with self._lock:
            self.tokens[token].revoked = True

    def script(self, path: str, answer: Mapping[str, Any]) -> None:
        with self._lock:
            self._scripted.setdefault(path, []).append(dict(answer))

    def fetches(self, owner: str | None = None) -> int:
        return sum(1 for fetch in self.token_fetches if owner is None or fetch["owner"] == owner)

    # --- the API --------------------------------------------------------------------------
    def _issue(self, owner: str, *, force: bool, stable: bool) -> dict[str, Any]:
        now = time.time()
        current = self.tokens.get(self.current.get(owner, ""))
        if stable and not force and current is not None and current.expires_at - 300 > now:
            token = self.current[owner]  # the same token until 5 minutes before it expires
        else:
            if force and current is not None:
                current.revoked = True  # force_refresh ends the previous token
            token = secrets.token_urlsafe(48)
            self.tokens[token] = IssuedToken(owner, now + self.expires_in)
            self.current[owner] = token
        self.token_fetches.append({"owner": owner, "force": force, "token": token})
        return {"access_token": token, "expires_in": int(self.tokens[token].expires_at - now)}

    def _check_token(self, query: Mapping[str, str], owner_prefix: str = "") -> tuple[dict[str, Any] | None, str]:
        token = query.get("access_token")
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}, ""
        issued = self.tokens.get(token)
        if issued is None or issued.revoked:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}, ""
        if issued.expires_at <= time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}, ""
        return None, issued.owner

    def handle(self, method: str, path: str, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        body: Any = None
        if method == "POST":
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return {"errcode": 47001, "errmsg": "data format error"}
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": query, "body": body})
            scripted = self._scripted.get(path)
            if scripted:
                return scripted.pop(0)
            if path == "/cgi-bin/stable_token" and method == "POST":
                return self._stable_token(body)
            if path == "/cgi-bin/token" and method == "GET":
                if query.get("grant_type") != "client_credential":
                    return {"errcode": 40002, "errmsg": "invalid grant_type"}
                if self.apps.get(query.get("appid", "")) != query.get("secret"):
                    return {"errcode": 40125, "errmsg": "invalid appsecret"}
                return self._issue(query["appid"], force=True, stable=False)
            if path == "/cgi-bin/gettoken" and method == "GET":
                agent = self.wecom_apps.get((query.get("corpid", ""), query.get("corpsecret", "")))
                if agent is None:
                    return {"errcode": 40001, "errmsg": "invalid secret"}
                answer = self._issue(f"{query['corpid']}:{agent}", force=False, stable=True)
                return {"errcode": 0, "errmsg": "ok", **answer}
            if method != "POST":
                return {"errcode": 43002, "errmsg": "require POST method"}
            if path == "/cgi-bin/message/template/send":
                return self._template_send(query, body)
            if path == "/cgi-bin/message/subscribe/send":
                return self._subscribe_send(query, body)
            if path == "/cgi-bin/message/send":
                return self._wecom_send(query, body)
        return {"errcode": 40066, "errmsg": "invalid url"}

    def _stable_token(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            return {"errcode": 47001, "errmsg": "data format error"}
        appid = body.get("appid")
        if not isinstance(appid, str) or appid not in self.apps:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if self.apps[appid] != body.get("secret"):
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        return self._issue(appid, force=force, stable=True)

    def _template_send(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        error, owner = self._check_token(query)
        if error:
            return error
        allowed = {"touser", "template_id", "url", "miniprogram", "data", "client_msg_id"}
        if (
            not isinstance(body, dict)
            or set(body) - allowed
            or not isinstance(body.get("touser"), str)
            or not isinstance(body.get("template_id"), str)
            or not _is_value_map(body.get("data"))
            or not isinstance(body.get("url", ""), str)
            or not isinstance(body.get("client_msg_id", ""), str)
            or len(body.get("client_msg_id", "")) > 64
        ):
            return {"errcode": 47001, "errmsg": "data format error"}
        mini = body.get("miniprogram")
        if mini is not None and (
            not isinstance(mini, dict) or set(mini) - {"appid", "pagepath"} or "appid" not in mini
        ):
            return {"errcode": 47001, "errmsg": "data format error"}
        openid = body["touser"]
        if not openid:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        if openid in self.refused:
            return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
        if self.followers is not None and openid not in self.followers:
            return {"errcode": 43004, "errmsg": "require subscribe"}
        key = (openid, body.get("client_msg_id", ""))
        now = time.time()
        if key[1] and key in self._client_msg_ids and now - self._client_msg_ids[key][1] < CLIENT_MSG_WINDOW:
            msgid = self._client_msg_ids[key][0]  # one message per (openid, client_msg_id)
        else:
            msgid = next(self._msgids)
            if key[1]:
                self._client_msg_ids[key] = (msgid, now)
            self.delivered.append({"owner": owner, "body": body, "msgid": msgid})
        self.sent.append({"path": "/cgi-bin/message/template/send", "owner": owner, "body": body, "msgid": msgid})
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _subscribe_send(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        error, owner = self._check_token(query)
        if error:
            return error
        allowed = {"touser", "template_id", "page", "data", "miniprogram_state", "lang"}
        if (
            not isinstance(body, dict)
            or set(body) - allowed
            or not isinstance(body.get("touser"), str)
            or not isinstance(body.get("template_id"), str)
            or not _is_value_map(body.get("data"))
            or not isinstance(body.get("page", ""), str)
            or body.get("miniprogram_state", "formal") not in SUBSCRIBE_STATES
            or body.get("lang", "zh_CN") not in LANGS
        ):
            return {"errcode": 47003, "errmsg": "argument invalid!"}
        if not body["touser"]:
            return {"errcode": 40003, "errmsg": "invalid openid"}
        if self.grants is not None:
            key = (body["touser"], body["template_id"])
            if self.grants.get(key, 0) <= 0:
                return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}
            self.grants[key] -= 1
        msgid = next(self._msgids)
        self.sent.append({"path": "/cgi-bin/message/subscribe/send", "owner": owner, "body": body, "msgid": msgid})
        self.delivered.append({"owner": owner, "body": body, "msgid": msgid})
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _wecom_send(self, query: Mapping[str, str], body: Any) -> dict[str, Any]:
        error, owner = self._check_token(query)
        if error:
            return {**error, "errcode": 40014} if error["errcode"] == 40001 else error
        if not isinstance(body, dict) or not isinstance(body.get("touser"), str) or not body["touser"]:
            return {"errcode": 40035, "errmsg": "invalid parameter"}
        agent = body.get("agentid")
        if not isinstance(agent, int) or owner != f"{owner.split(':', 1)[0]}:{agent}":
            return {"errcode": 301002, "errmsg": "not allow to operate another agent"}
        kind = body.get("msgtype")
        if kind == "text":
            part = body.get("text")
            if not isinstance(part, dict) or not isinstance(part.get("content"), str) or not part["content"]:
                return {"errcode": 44004, "errmsg": "empty content"}
        elif kind == "textcard":
            part = body.get("textcard")
            if not isinstance(part, dict) or not all(
                isinstance(part.get(k), str) and part[k] for k in ("title", "description", "url")
            ):
                return {"errcode": 40035, "errmsg": "invalid parameter"}
        else:
            return {"errcode": 40008, "errmsg": "invalid message type"}
        check = body.get("enable_duplicate_check", 0)
        interval = body.get("duplicate_check_interval", 1800)
        if check not in (0, 1) or not isinstance(interval, int) or not 0 < interval <= 4 * 3600:
            return {"errcode": 40035, "errmsg": "invalid parameter"}
        users = body["touser"].split("|")
        invalid = [user for user in users if self.wecom_users is not None and user not in self.wecom_users]
        if len(invalid) == len(users):
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": "|".join(invalid)}
        msgid = secrets.token_urlsafe(24)
        self.sent.append({"path": "/cgi-bin/message/send", "owner": owner, "body": body, "msgid": msgid})
        digest = hashlib.sha256(json.dumps([body["touser"], kind, part], sort_keys=True).encode()).hexdigest()
        now = time.time()
        if not (check and now - self._wecom_recent.get(digest, -1e18) < interval):
            self._wecom_recent[digest] = now
            self.delivered.append({"owner": owner, "body": body, "msgid": msgid})
        return {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "invalidparty": "",
            "invalidtag": "",
            "unlicenseduser": "",
            "msgid": msgid,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and the
                # client's delayed ACK hold every answer on a kept-alive connection for ~40 ms.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if fake.token_delay and parts.path in ("/cgi-bin/stable_token", "/cgi-bin/token", "/cgi-bin/gettoken"):
                    threading.Event().wait(fake.token_delay)
                answer = fake.handle(method, parts.path, query, raw)
                if fake.send_delay and parts.path.startswith("/cgi-bin/message/"):
                    threading.Event().wait(fake.send_delay)
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; encoding=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


# --- pushes ------------------------------------------------------------------------------------


def signed_query(token: str, *, timestamp: int | None = None, nonce: str | None = None, **extra: str) -> dict[str, str]:
    """The query string WeChat puts on a push to our URL, signed with the push Token."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or str(secrets.randbelow(10**10))
    return {"signature": push.signature(token, ts, nonce), "timestamp": ts, "nonce": nonce, **extra}


def encrypted_push(
    token: str, xml: str, *, encoding_aes_key: str, app_id: str, timestamp: int | None = None
) -> tuple[dict[str, str], bytes]:
    """A safe-mode push: the query (with ``msg_signature``) and the envelope body."""
    encrypted = push.encrypt(xml.encode(), encoding_aes_key=encoding_aes_key, app_id=app_id)
    query = signed_query(token, timestamp=timestamp, encrypt_type="aes")
    query["msg_signature"] = push.signature(token, query["timestamp"], query["nonce"], encrypted)
    body = f"<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return query, body.encode()


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


def template_finish_xml(*, openid: str, msgid: int | str, status: str = "success", at: int | None = None) -> str:
    """The ``TEMPLATESENDJOBFINISH`` event WeChat pushes after a template message."""
    return (
        f"<xml><ToUserName>{_cdata('gh_7f083739789a')}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time()) if at is None else at}</CreateTime><MsgType>{_cdata('event')}</MsgType>"
        f"<Event>{_cdata('TEMPLATESENDJOBFINISH')}</Event><MsgID>{msgid}</MsgID><Status>{_cdata(status)}</Status></xml>"
    )


def text_message_xml(*, openid: str, content: str, msg_id: str = "23456789012345678", at: int | None = None) -> str:
    return (
        f"<xml><ToUserName>{_cdata('gh_7f083739789a')}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time()) if at is None else at}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
        f"<Content>{_cdata(content)}</Content><MsgId>{msg_id}</MsgId></xml>"
    )


def subscribe_event_xml(*, openid: str, event: str, items: list[dict[str, str]], at: int | None = None) -> str:
    """A Mini Program ``subscribe_msg_*_event`` push; ``items`` are the List entries."""
    wrapper = {
        "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
        "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
        "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
    }[event]
    lists = "".join(
        "<List>" + "".join(f"<{key}>{_cdata(value)}</{key}>" for key, value in item.items()) + "</List>"
        for item in items
    )
    return (
        f"<xml><ToUserName>{_cdata('gh_123456789abc')}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
        f"<CreateTime>{int(time.time()) if at is None else at}</CreateTime><MsgType>{_cdata('event')}</MsgType>"
        f"<Event>{_cdata(event)}</Event><{wrapper}>{lists}</{wrapper}></xml>"
    )


def query_string(query: Mapping[str, str]) -> str:
    return urlencode(query)
