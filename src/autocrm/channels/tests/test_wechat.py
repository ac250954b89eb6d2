"""WeChat Official Account template messages and Mini Program subscribe messages, against a
local WeChat server that checks the access token and the body of every call, and the pushes
WeChat sends back, signed as WeChat signs them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from autocrm.channels.base import (
    CallbackRejected,
    ChannelClient,
    ChannelError,
    InboundReply,
    Outgoing,
    StatusReport,
    client_class,
    providers,
)
from autocrm.channels.testing.fixtures import empty_shared_cache  # noqa: F401 (a fixture)
from autocrm.channels.testing.wechat_servers import (
    FakeWeixin,
    encrypted_push,
    signed_query,
    subscribe_event_xml,
    template_finish_xml,
    text_message_xml,
)
from autocrm.channels.wechat import push
from autocrm.channels.wechat.mini_program import MiniProgramClient
from autocrm.channels.wechat.official_account import OfficialAccountClient
from autocrm.core.cache import shared_cache

APP, SECRET, TOKEN = "wx5f2c3a1b9d8e7f60", "3f1e9c0d2b4a6f8e1d3c5b7a9e0f2d4c", "pushtoken123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat generates
OPENID = "oia2TjuEGTNoeX76QEjQNrcURxG8"
SRC = str(Path(__file__).resolve().parents[3])


pytestmark = pytest.mark.usefixtures("empty_shared_cache")


@pytest.fixture
def weixin():
    with FakeWeixin(apps={APP: SECRET}) as server:
        yield server


def oa(weixin: FakeWeixin, **config: str) -> OfficialAccountClient:
    return OfficialAccountClient({"app_id": APP, "app_secret": SECRET, **config}, endpoint=weixin.url)


def message(**kwargs) -> Outgoing:
    defaults = {
        "message_id": uuid.uuid4().hex,
        "to": OPENID,
        "template_code": "ngqIpbwh8bUfcSsECmogfXcV14J0tQlEpBO27izEYtY",
        "data": {"thing1": "保养提醒", "time2": "2026年12月3日 09:30", "car_number3": "沪A12345"},
        "link": "https://crm.example.com/r/abc",
    }
    return Outgoing(**{**defaults, **kwargs})


# --- registration -------------------------------------------------------------------------------


def test_the_providers_are_registered_with_their_channels():
    found = providers()
    assert found["wechat_oa"].channel == "wechat"
    assert found["wechat_mp"].channel == "miniprogram"
    assert found["wecom"].channel == "wecom"
    assert client_class("wechat_oa") is OfficialAccountClient
    assert {f.name for f in OfficialAccountClient.config_fields if f.secret} == {"app_secret", "encoding_aes_key"}
    assert OfficialAccountClient.can_query is False
    assert OfficialAccountClient.resend_is_idempotent is True
    assert OfficialAccountClient({}).idempotency_window == 600
    assert MiniProgramClient.resend_is_idempotent is False
    assert ChannelClient.resend_is_idempotent is False


# --- template messages -----------------------------------------------------------------------------


def test_a_template_message_is_sent_with_the_token_and_the_documented_body(weixin):
    msg = message()
    result = oa(weixin).send(msg)

    fetch = weixin.requests[0]
    assert fetch["path"] == "/cgi-bin/stable_token"
    assert fetch["body"] == {"grant_type": "client_credential", "appid": APP, "secret": SECRET, "force_refresh": False}
    sent = weixin.sent[0]
    assert sent["owner"] == APP
    assert sent["body"] == {
        "touser": OPENID,
        "template_id": msg.template_code,
        "url": "https://crm.example.com/r/abc",
        "client_msg_id": msg.message_id,
        "data": {
            "thing1": {"value": "保养提醒"},
            "time2": {"value": "2026年12月3日 09:30"},
            "car_number3": {"value": "沪A12345"},
        },
    }
    assert result.provider_id == str(sent["msgid"])
    assert result.status == "accepted"
    assert "access_token" not in json.dumps(dict(result.raw))


def test_a_mini_program_page_opens_the_linked_mini_program(weixin):
    msg = message(link="", extra={"miniprogram_page": "pages/order/detail?id=7"})
    oa(weixin, miniprogram_app_id="wxminiapp0001").send(msg)
    body = weixin.sent[0]["body"]
    assert body["miniprogram"] == {"appid": "wxminiapp0001", "pagepath": "pages/order/detail?id=7"}
    assert "url" not in body


def test_two_clients_of_one_account_share_one_token(weixin):
    one, two = oa(weixin), oa(weixin)
    one.send(message())
    two.send(message())
    one.send(message())
    assert weixin.fetches(APP) == 1
    tokens = {r["query"]["access_token"] for r in weixin.requests if r["path"].startswith("/cgi-bin/message")}
    assert len(tokens) == 1


def test_a_token_expired_early_is_refreshed_once_and_the_call_retried(weixin):
    client = oa(weixin)
    client.send(message())
    first = weixin.token_fetches[-1]["token"]
    weixin.expire(first)

    msg = message()
    result = client.send(msg)

    assert weixin.fetches(APP) == 2
    assert weixin.token_fetches[-1]["force"] is False  # the ordinary mode gave a new one
    calls = [r for r in weixin.requests if r["path"] == "/cgi-bin/message/template/send"]
    assert [c["query"]["access_token"] == first for c in calls] == [True, True, False]
    assert len(weixin.delivered) == 2
    assert weixin.delivered[-1]["body"]["client_msg_id"] == msg.message_id
    assert result.provider_id == str(weixin.delivered[-1]["msgid"])


def test_a_revoked_token_still_handed_out_is_force_refreshed(weixin):
    client = oa(weixin)
    client.send(message())
    weixin.revoke(weixin.token_fetches[-1]["token"])

    client.send(message())

    assert [f["force"] for f in weixin.token_fetches] == [False, False, True]
    assert len(weixin.delivered) == 2


def test_a_token_refreshed_by_another_worker_is_used_without_a_fetch(weixin):
    one, two = oa(weixin), oa(weixin)
    one.send(message())
    stale = weixin.token_fetches[-1]["token"]
    weixin.expire(stale)
    one.send(message())  # refreshes (fetch 2)
    # `two` still holds nothing of its own: it reads the cache; and a refresh for the stale token
    # finds the newer one there.
    assert two.tokens.refresh(rejected=stale) == weixin.token_fetches[-1]["token"]
    assert weixin.fetches(APP) == 2


def test_a_token_about_to_expire_is_replaced_before_it_is_used(weixin):
    client = oa(weixin)
    client.send(message())
    entry = shared_cache().get(f"channels:wechat:token:{APP}")
    # as the entry reads two hours later: 2 minutes left, past its refresh time (5 minutes early)
    assert entry["expires_at"] - entry["refresh_at"] == pytest.approx(300)
    later = {**entry, "expires_at": time.time() + 120, "refresh_at": time.time() - 180}
    shared_cache().set(f"channels:wechat:token:{APP}", later)

    client.send(message())

    assert weixin.fetches(APP) == 2
    answers = [r for r in weixin.requests if r["path"] == "/cgi-bin/message/template/send"]
    assert len(answers) == 2  # no call went out with the old token and came back 42001


def test_a_token_refused_twice_is_a_retry(weixin):
    client = oa(weixin)
    weixin.script("/cgi-bin/message/template/send", {"errcode": 42001, "errmsg": "access_token expired"})
    weixin.script("/cgi-bin/message/template/send", {"errcode": 40001, "errmsg": "invalid credential"})
    with pytest.raises(ChannelError) as caught:
        client.send(message())
    assert caught.value.kind == "retry"
    assert weixin.delivered == []


def test_many_workers_needing_a_token_at_once_fetch_it_once(weixin):
    weixin.token_delay = 0.3
    errors: list[BaseException] = []

    def work() -> None:
        try:
            oa(weixin).send(message())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert weixin.fetches(APP) == 1
    assert len(weixin.delivered) == 8


WORKER = """
import json, sys, uuid
import django
from django.conf import settings
caches, endpoint, app, secret = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
settings.configure(CACHES=caches, USE_TZ=True, INSTALLED_APPS=[],
                   DATABASES={"default": json.loads(sys.argv[5])} if len(sys.argv) > 5 else {})
django.setup()
if sys.argv[-1] == "setup":
    from django.core.management import call_command
    call_command("createcachetable", verbosity=0)
    raise SystemExit(0)
from autocrm.channels.base import Outgoing
from autocrm.channels.wechat.official_account import OfficialAccountClient
client = OfficialAccountClient({"app_id": app, "app_secret": secret}, endpoint=endpoint)
result = client.send(Outgoing(message_id=uuid.uuid4().hex, to="oOPENID", template_code="T1", data={"thing1": "x"}))
print(client.tokens.get())
"""


def _processes(weixin: FakeWeixin, caches: dict, db: dict | None = None) -> set[str]:
    extra = [json.dumps(db)] if db else []
    args = [sys.executable, "-c", WORKER, json.dumps(caches), weixin.url, APP, SECRET, *extra]
    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}
    if db:
        subprocess.run([*args, "setup"], env=env, check=True, capture_output=True, timeout=120)  # noqa: S603
    workers = [
        subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # noqa: S603
        for _ in range(2)
    ]
    tokens = set()
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        tokens.add(out.strip())
    return tokens


def test_two_processes_share_one_token_through_redis(weixin):
    import redis

    url = "redis://127.0.0.1:6379/4"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    weixin.token_delay = 1.0  # the second process arrives while the first is fetching
    caches = {
        "default": {
            "BACKEND": "autocrm.core.cache.SharedRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}",
        }
    }
    tokens = _processes(weixin, caches)
    assert weixin.fetches(APP) == 1
    assert len(tokens) == 1
    assert len(weixin.sent) == 2


@pytest.mark.django_db
def test_two_processes_share_one_token_through_the_database_cache(weixin, tmp_path):
    """Without Redis the shared cache is a table of the application database: on PostgreSQL the
    test database itself (a table of its own), on SQLite a file both processes open."""
    from django.db import connection

    weixin.token_delay = 1.0
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        db = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "cache.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    else:
        db = {k: settings_dict[k] for k in ("ENGINE", "NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")}
    # a table of its own (created by the processes, committed: it goes with the test database)
    table = f"autocrm_cache_tok_{uuid.uuid4().hex[:8]}"
    caches = {"default": {"BACKEND": "autocrm.core.cache.SharedDatabaseCache", "LOCATION": table}}
    tokens = _processes(weixin, caches, db)
    assert weixin.fetches(APP) == 1
    assert len(tokens) == 1
    assert len(weixin.sent) == 2


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [
        (43004, "permanent"),  # not following the account
        (43101, "blacklist"),  # refused the account's messages
        (45009, "rate_limited"),
        (45047, "rate_limited"),
        (-1, "retry"),
        (40037, "permanent"),  # unknown template_id
        (47003, "permanent"),  # a value too long for its template field
        (40164, "auth"),  # our IP is not on the whitelist
    ],
)
def test_wechat_errors_map_to_what_the_outbox_does_next(weixin, errcode, kind):
    weixin.script("/cgi-bin/message/template/send", {"errcode": errcode, "errmsg": "x"})
    with pytest.raises(ChannelError) as caught:
        oa(weixin).send(message())
    assert (caught.value.kind, caught.value.code) == (kind, str(errcode))


def test_recipients_the_server_refuses(weixin):
    weixin.followers = {"oFOLLOWER"}
    weixin.refused = {"oREFUSED"}
    client = oa(weixin)
    with pytest.raises(ChannelError) as not_following:
        client.send(message(to="oSOMEONE"))
    with pytest.raises(ChannelError) as refused:
        client.send(message(to="oREFUSED"))
    assert (not_following.value.kind, not_following.value.code) == ("permanent", "43004")
    assert (refused.value.kind, refused.value.code) == ("blacklist", "43101")
    client.send(message(to="oFOLLOWER"))
    assert len(weixin.delivered) == 1


def test_wrong_credentials_are_an_auth_error(weixin):
    client = OfficialAccountClient({"app_id": APP, "app_secret": "wrong"}, endpoint=weixin.url)
    with pytest.raises(ChannelError) as caught:
        client.send(message())
    assert (caught.value.kind, caught.value.code) == ("auth", "40125")


def test_an_unreachable_server_is_a_retry():
    server = FakeWeixin(apps={APP: SECRET})
    url = server.url
    server.stop()
    client = OfficialAccountClient({"app_id": APP, "app_secret": SECRET}, endpoint=url, timeout=1)
    with pytest.raises(ChannelError) as caught:
        client.send(message())
    assert caught.value.kind == "retry"
    assert not caught.value.in_doubt  # nothing left: resending is safe


def test_a_lost_answer_after_the_request_was_written_is_in_doubt(weixin):
    """Kept-alive connections (channels/keepalive.py): the provider accepted the message and its
    answer never came in time — the outbox must not resend blind (ADR 0013)."""
    client = OfficialAccountClient({"app_id": APP, "app_secret": SECRET}, endpoint=weixin.url, timeout=0.3)
    client.tokens.get()  # the token in hand: only the send is slow
    weixin.send_delay = 1.0
    with pytest.raises(ChannelError) as caught:
        client.send(message())
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "timeout", True)
    assert len(weixin.sent) == 1  # it did reach WeChat


def test_a_slow_token_fetch_is_a_plain_retry():
    with FakeWeixin(apps={APP: SECRET}, token_delay=1.0) as slow:
        client = OfficialAccountClient({"app_id": APP, "app_secret": SECRET}, endpoint=slow.url, timeout=0.3)
        with pytest.raises(ChannelError) as caught:
            client.send(message())
        assert (caught.value.kind, caught.value.in_doubt) == ("retry", False)  # no message went
        assert slow.sent == []


def test_sends_reuse_one_kept_alive_connection_per_thread(weixin):
    client = oa(weixin)
    for _ in range(3):
        client.send(message())
    assert len(client._http._all) == 1  # token fetch and three sends: one connection


def test_a_resend_with_the_same_message_id_reaches_the_user_once(weixin):
    """What ``resend_is_idempotent`` rests on: the same ``client_msg_id`` within 10 minutes."""
    client = oa(weixin)
    msg = message()
    first = client.send(msg)
    again = client.send(msg)
    assert len(weixin.sent) == 2
    assert len(weixin.delivered) == 1
    assert first.provider_id == again.provider_id


# --- pushes ---------------------------------------------------------------------------------------


def test_the_published_signature_example_verifies():
    # wechatpy's check_signature test vector: token "test", timestamp 1410685589, nonce "test".
    assert push.signature("test", "1410685589", "test") == "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    query = {"signature": "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "timestamp": "1410685589", "nonce": "test"}
    push.check(query, "test", now=1410685589 + 10)
    with pytest.raises(CallbackRejected):
        push.check(query, "test", now=1410685589 + 301)


def test_the_url_check_is_answered_with_its_echostr():
    client = OfficialAccountClient({"app_id": APP})
    query = signed_query(TOKEN, echostr="5837397520065451716")
    assert client.parse_callback(headers={}, body=b"", query=query, secret=TOKEN) == []
    answer = client.callback_answer(query=query)
    assert (answer.status, answer.body) == (200, b"5837397520065451716")
    assert answer.content_type.startswith("text/plain")
    assert client.callback_answer().body == b"success"
    # a forged check is refused before anything is echoed
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=b"", query={**query, "signature": "0" * 40}, secret=TOKEN)


def test_template_send_job_finish_becomes_a_status_report():
    client = OfficialAccountClient({"app_id": APP})
    reports = []
    for status in ("success", "failed:user block", "failed: system failed"):
        xml = template_finish_xml(openid=OPENID, msgid=200163836, status=status, at=1764583200)
        reports += client.parse_callback(headers={}, body=xml.encode(), query=signed_query(TOKEN), secret=TOKEN)
    assert [(r.status, r.blacklisted, r.code) for r in reports] == [
        ("delivered", False, "success"),
        ("failed", True, "failed:user block"),
        ("failed", False, "failed: system failed"),
    ]
    assert all(isinstance(r, StatusReport) and r.provider_id == "200163836" and r.to == OPENID for r in reports)
    assert reports[0].at is not None and reports[0].at.timestamp() == 1764583200


@pytest.mark.parametrize("word", ["TD", "退订"])
def test_an_unsubscribe_reply_becomes_an_inbound_reply(word):
    client = OfficialAccountClient({"app_id": APP})
    xml = text_message_xml(openid=OPENID, content=word)
    [reply] = client.parse_callback(headers={}, body=xml.encode(), query=signed_query(TOKEN), secret=TOKEN)
    assert isinstance(reply, InboundReply)
    assert (reply.sender, reply.text, reply.event) == (OPENID, word, "")


def test_unfollowing_the_account_is_reported():
    client = OfficialAccountClient({"app_id": APP})
    xml = (
        f"<xml><ToUserName>gh_1</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>1764583200</CreateTime>"
        "<MsgType>event</MsgType><Event>unsubscribe</Event></xml>"
    )
    [reply] = client.parse_callback(headers={}, body=xml.encode(), query=signed_query(TOKEN), secret=TOKEN)
    assert (reply.sender, reply.event) == (OPENID, "unsubscribe")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><Content>&lol3;</Content><MsgType>text</MsgType></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>o1</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>"""


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "stale",
        "future",
        "no_token",
        "garbage",
        "not_xml_root",
        "xxe",
        "billion_laughs",
        "empty",
        "bad_timestamp",
    ],
)
def test_hostile_pushes_are_rejected(case):
    client = OfficialAccountClient({"app_id": APP})
    body = text_message_xml(openid=OPENID, content="TD").encode()
    query = signed_query(TOKEN)
    secret = TOKEN
    if case == "forged":
        query = signed_query("another-token")
    elif case == "stale":
        query = signed_query(TOKEN, timestamp=int(time.time()) - 301)
    elif case == "future":
        query = signed_query(TOKEN, timestamp=int(time.time()) + 301)
    elif case == "no_token":
        secret = ""
    elif case == "garbage":
        body = b"<xml><unclosed>\x00\xff"
    elif case == "not_xml_root":
        body = b"<html><FromUserName>x</FromUserName></html>"
    elif case == "xxe":
        body = XXE
    elif case == "billion_laughs":
        body = BILLION_LAUGHS
    elif case == "empty":
        body = b""
    elif case == "bad_timestamp":
        query = {**signed_query(TOKEN, timestamp=0), "timestamp": "abc"}
        query["signature"] = push.signature(TOKEN, "abc", query["nonce"])
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=body, query=query, secret=secret)


def test_safe_mode_pushes_are_decrypted_and_checked():
    client = OfficialAccountClient({"app_id": APP, "encoding_aes_key": AES_KEY})
    xml = text_message_xml(openid=OPENID, content="退订")
    query, body = encrypted_push(TOKEN, xml, encoding_aes_key=AES_KEY, app_id=APP)
    [reply] = client.parse_callback(headers={}, body=body, query=query, secret=TOKEN)
    assert (reply.sender, reply.text) == (OPENID, "退订")

    # encrypted for another account, or the msg_signature forged
    query, body = encrypted_push(TOKEN, xml, encoding_aes_key=AES_KEY, app_id="wxsomeoneelse")
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=body, query=query, secret=TOKEN)
    query, body = encrypted_push(TOKEN, xml, encoding_aes_key=AES_KEY, app_id=APP)
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=body, query={**query, "msg_signature": "0" * 40}, secret=TOKEN)
    # a key that is not ours decrypts to noise
    other = OfficialAccountClient({"app_id": APP, "encoding_aes_key": "Z" * 43})
    query, body = encrypted_push(TOKEN, xml, encoding_aes_key=AES_KEY, app_id=APP)
    with pytest.raises(CallbackRejected):
        other.parse_callback(headers={}, body=body, query=query, secret=TOKEN)


def test_encryption_matches_the_documented_layout():
    """16 random bytes, the length in 4 bytes big-endian, the message, the appid; PKCS#7 to 32."""
    import base64

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    encrypted = push.encrypt(b"<xml/>", encoding_aes_key=AES_KEY, app_id=APP, random=b"r" * 16)
    key = base64.b64decode(AES_KEY + "=")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    assert len(plain) % 32 == 0
    assert plain[:16] == b"r" * 16
    assert plain[16:20] == (6).to_bytes(4, "big")
    assert plain[20:26] == b"<xml/>"
    assert plain[26 : 26 + len(APP)] == APP.encode()


# --- mini program -----------------------------------------------------------------------------------


def mp(weixin: FakeWeixin, **config: str) -> MiniProgramClient:
    return MiniProgramClient({"app_id": APP, "app_secret": SECRET, **config}, endpoint=weixin.url)


def test_a_subscribe_message_is_sent_with_the_documented_body(weixin):
    weixin.grants = {(OPENID, "TPL-1"): 1}
    result = mp(weixin).send(message(template_code="TPL-1", link="pages/service/detail?id=9", data={"thing1": "保养"}))
    sent = weixin.sent[0]
    assert sent["path"] == "/cgi-bin/message/subscribe/send"
    assert sent["body"] == {
        "touser": OPENID,
        "template_id": "TPL-1",
        "page": "pages/service/detail?id=9",
        "data": {"thing1": {"value": "保养"}},
        "miniprogram_state": "formal",
        "lang": "zh_CN",
    }
    assert result.provider_id == str(sent["msgid"])


def test_without_a_grant_the_send_is_permanent_43101_for_the_sms_fallback(weixin):
    weixin.grants = {(OPENID, "TPL-1"): 1}
    client = mp(weixin, miniprogram_state="trial")
    client.send(message(template_code="TPL-1"))
    with pytest.raises(ChannelError) as caught:
        client.send(message(template_code="TPL-1"))
    assert (caught.value.kind, caught.value.code) == ("permanent", "43101")
    assert weixin.sent[0]["body"]["miniprogram_state"] == "trial"
    assert len(weixin.delivered) == 1


def test_the_oa_and_the_mini_program_of_one_appid_share_the_token(weixin):
    weixin.grants = None
    oa(weixin).send(message())
    mp(weixin).send(message())
    assert weixin.fetches(APP) == 1


def test_subscribe_popup_and_change_events_feed_the_grant_ledger():
    client = MiniProgramClient({"app_id": APP})
    xml = subscribe_event_xml(
        openid=OPENID,
        event="subscribe_msg_popup_event",
        items=[
            {"TemplateId": "TPL-1", "SubscribeStatusString": "accept", "PopupScene": "0"},
            {"TemplateId": "TPL-2", "SubscribeStatusString": "reject", "PopupScene": "0"},
        ],
    )
    replies = client.parse_callback(headers={}, body=xml.encode(), query=signed_query(TOKEN), secret=TOKEN)
    assert [(r.sender, r.event, dict(r.data)) for r in replies] == [
        (OPENID, "subscribe_msg_popup_event", {"template_id": "TPL-1", "status": "accept", "popup_scene": "0"}),
        (OPENID, "subscribe_msg_popup_event", {"template_id": "TPL-2", "status": "reject", "popup_scene": "0"}),
    ]
    xml = subscribe_event_xml(
        openid=OPENID,
        event="subscribe_msg_change_event",
        items=[{"TemplateId": "TPL-1", "SubscribeStatusString": "reject"}],
    )
    [change] = client.parse_callback(headers={}, body=xml.encode(), query=signed_query(TOKEN), secret=TOKEN)
    assert (change.event, dict(change.data)) == (
        "subscribe_msg_change_event",
        {"template_id": "TPL-1", "status": "reject"},
    )


def test_a_sent_event_reports_the_message_and_the_grant_used():
    client = MiniProgramClient({"app_id": APP})
    xml = subscribe_event_xml(
        openid=OPENID,
        event="subscribe_msg_sent_event",
        items=[{"TemplateId": "TPL-1", "MsgID": "1700827132819554304", "ErrorCode": "0", "ErrorStatus": "success"}],
    )
    reply, report = client.parse_callback(headers={}, body=xml.encode(), query=signed_query(TOKEN), secret=TOKEN)
    assert isinstance(reply, InboundReply) and isinstance(report, StatusReport)
    assert dict(reply.data) == {
        "template_id": "TPL-1",
        "status": "success",
        "msg_id": "1700827132819554304",
        "error_code": "0",
    }
    assert (report.provider_id, report.status) == ("1700827132819554304", "delivered")


def test_json_pushes_of_a_mini_program_are_read_too():
    client = MiniProgramClient({"app_id": APP})
    body = json.dumps(
        {
            "ToUserName": "gh_123456789abc",
            "FromUserName": OPENID,
            "CreateTime": "1764583200",
            "MsgType": "event",
            "Event": "subscribe_msg_popup_event",
            "List": {"TemplateId": "TPL-9", "SubscribeStatusString": "accept", "PopupScene": "2"},
        }
    ).encode()
    [reply] = client.parse_callback(headers={}, body=body, query=signed_query(TOKEN), secret=TOKEN)
    assert dict(reply.data) == {"template_id": "TPL-9", "status": "accept", "popup_scene": "2"}
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=b"{not json", query=signed_query(TOKEN), secret=TOKEN)
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=body, query=signed_query("forged"), secret=TOKEN)


def test_the_access_token_never_reaches_the_log(weixin, caplog):
    import logging

    with caplog.at_level(logging.DEBUG, logger="autocrm.channels.wechat.api"):  # the client's request lines
        oa(weixin).send(message())
    token = weixin.token_fetches[0]["token"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "template/send?access_token=***" in logged  # the request line, redacted
    assert token not in logged
    assert SECRET not in logged


def test_a_token_handed_out_with_little_life_left_is_not_fetched_on_every_call():
    with FakeWeixin(apps={APP: SECRET}, expires_in=200) as weixin:
        client = oa(weixin)
        for _ in range(3):
            client.send(message())
        assert weixin.fetches(APP) == 1


def test_an_echostr_that_is_not_a_plain_token_is_not_reflected():
    client = OfficialAccountClient({"app_id": APP})
    query = signed_query(TOKEN, echostr="<script>alert(1)</script>")
    assert client.parse_callback(headers={}, body=b"", query=query, secret=TOKEN) == []
    assert client.callback_answer(query=query).body == b"success"


# The published example of the safe-mode scheme (WeCom's 加解密方案 / 回调配置 pages; the Official
# Account's safe mode is the same AES envelope and msg_signature, with the appid as receiver).
DOC_TOKEN, DOC_KEY, DOC_RECEIVER = "QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7"
DOC_ECHOSTR = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
DOC_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxacc"
    "AS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Iz"
    "oun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNel"
    "ZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)


def test_the_published_safe_mode_examples_verify_and_decrypt():
    url_check = {
        "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        "timestamp": "1409659589",
        "nonce": "263014780",
    }
    push.check(url_check, DOC_TOKEN, now=1409659589, encrypted=DOC_ECHOSTR)
    assert push.decrypt(DOC_ECHOSTR, encoding_aes_key=DOC_KEY, app_id=DOC_RECEIVER) == b"1616140317555161061"

    message = {
        "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6",
        "timestamp": "1409659813",
        "nonce": "1372623149",
    }
    push.check(message, DOC_TOKEN, now=1409659813, encrypted=DOC_ENCRYPT)
    data = push.parse_body(push.decrypt(DOC_ENCRYPT, encoding_aes_key=DOC_KEY, app_id=DOC_RECEIVER))
    assert (data["FromUserName"], data["MsgType"], data["Content"]) == ("mycreate", "text", "hello")

    with pytest.raises(CallbackRejected):
        push.check({**message, "nonce": "1372623150"}, DOC_TOKEN, now=1409659813, encrypted=DOC_ENCRYPT)
    with pytest.raises(CallbackRejected):
        push.decrypt(DOC_ENCRYPT, encoding_aes_key=DOC_KEY, app_id="wx0000000000000000")


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [(502, b"<html>Bad Gateway</html>", "retry"), (200, b"<html>", "retry"), (404, b"", "permanent")],
)
def test_answers_that_are_not_wechat_json(status, body, kind):
    """A proxy's error page, a truncated answer: never a crash, and retried unless it is a 4xx."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Broken(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Broken)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        client = OfficialAccountClient(
            {"app_id": APP, "app_secret": SECRET}, endpoint=f"http://127.0.0.1:{server.server_address[1]}"
        )
        with pytest.raises(ChannelError) as caught:
            client.send(message())
        assert caught.value.kind == kind
    finally:
        server.shutdown()
        server.server_close()
