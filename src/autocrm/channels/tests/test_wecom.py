"""WeCom application messages to staff, against a local WeCom server that checks the token of
the application, the body per message type and the recipients."""

from __future__ import annotations

import uuid

import pytest

from autocrm.channels.base import CallbackRejected, ChannelError, Outgoing
from autocrm.channels.testing.fixtures import empty_shared_cache  # noqa: F401 (a fixture)
from autocrm.channels.testing.wechat_servers import FakeWeixin
from autocrm.channels.wechat.wecom import WeComClient
from autocrm.core.cache import shared_cache

CORP, SECRET, AGENT = "ww1a2b3c4d5e6f7a8b", "Xq9vJ0kS1r2T3u4V5w6X7y8Z9a0B1c2D3e4F5g6H7i8", 1000002


pytestmark = pytest.mark.usefixtures("empty_shared_cache")


@pytest.fixture
def wecom():
    with FakeWeixin(wecom_apps={(CORP, SECRET): AGENT}) as server:
        server.wecom_users = {"zhangsan", "lisi"}
        yield server


def client(server: FakeWeixin, **config: str) -> WeComClient:
    base = {"corp_id": CORP, "agent_id": str(AGENT), "corp_secret": SECRET}
    return WeComClient({**base, **config}, endpoint=server.url)


def note(**kwargs) -> Outgoing:
    defaults = {
        "message_id": uuid.uuid4().hex,
        "to": "zhangsan",
        "text": "新线索：王先生 138****5678，请在30分钟内联系",
    }
    return Outgoing(**{**defaults, **kwargs})


def test_the_token_comes_from_gettoken_with_the_application_secret(wecom):
    client(wecom).send(note())
    fetch = wecom.requests[0]
    assert (fetch["method"], fetch["path"]) == ("GET", "/cgi-bin/gettoken")
    assert fetch["query"] == {"corpid": CORP, "corpsecret": SECRET}
    assert wecom.sent[0]["owner"] == f"{CORP}:{AGENT}"
    assert shared_cache().get(f"channels:wecom:token:{CORP}:{AGENT}")["token"] == wecom.token_fetches[0]["token"]


def test_a_text_message_carries_the_agent_and_the_duplicate_check(wecom):
    msg = note()
    result = client(wecom).send(msg)
    body = wecom.sent[0]["body"]
    assert body == {
        "touser": "zhangsan",
        "agentid": AGENT,
        "msgtype": "text",
        "text": {"content": msg.text},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 1800,
    }
    assert result.provider_id == wecom.sent[0]["msgid"]


def test_a_message_with_a_link_is_a_text_card(wecom):
    client(wecom, duplicate_check_interval="600").send(
        note(subject="线索分配", text="王先生，意向车型 Model Y", link="https://crm.example.com/leads/42")
    )
    body = wecom.sent[0]["body"]
    assert body["msgtype"] == "textcard"
    assert body["textcard"] == {
        "title": "线索分配",
        "description": "王先生，意向车型 Model Y",
        "url": "https://crm.example.com/leads/42",
    }
    assert body["duplicate_check_interval"] == 600


def test_a_resend_inside_the_interval_reaches_the_person_once(wecom):
    one = client(wecom)
    assert one.resend_is_idempotent is True
    assert one.idempotency_window == 1800
    assert client(wecom, duplicate_check_interval="99999").idempotency_window == 4 * 3600
    msg = note()
    one.send(msg)
    one.send(msg)
    assert len(wecom.sent) == 2
    assert len(wecom.delivered) == 1


def test_two_clients_share_the_application_token(wecom):
    client(wecom).send(note())
    client(wecom).send(note(text="另一条"))
    assert wecom.fetches() == 1


def test_an_expired_token_is_refreshed_once(wecom):
    one = client(wecom)
    one.send(note())
    wecom.expire(wecom.token_fetches[-1]["token"])
    one.send(note(text="第二条"))
    assert wecom.fetches() == 2
    assert len(wecom.delivered) == 2


def test_an_unknown_userid_is_permanent(wecom):
    with pytest.raises(ChannelError) as all_invalid:
        client(wecom).send(note(to="nobody"))
    assert (all_invalid.value.kind, all_invalid.value.code) == ("permanent", "81013")
    # a partial answer naming our recipient in invaliduser
    wecom.script(
        "/cgi-bin/message/send",
        {"errcode": 0, "errmsg": "ok", "invaliduser": "wangwu", "unlicenseduser": "", "msgid": "m1"},
    )
    with pytest.raises(ChannelError) as named:
        client(wecom).send(note(to="wangwu"))
    assert (named.value.kind, named.value.code) == ("permanent", "invaliduser")


@pytest.mark.parametrize(
    ("errcode", "kind"),
    [(-1, "retry"), (45009, "rate_limited"), (45033, "rate_limited"), (60020, "auth"), (40056, "auth")],
)
def test_wecom_errors_map_to_what_the_outbox_does_next(wecom, errcode, kind):
    wecom.script("/cgi-bin/message/send", {"errcode": errcode, "errmsg": "x"})
    with pytest.raises(ChannelError) as caught:
        client(wecom).send(note())
    assert (caught.value.kind, caught.value.code) == (kind, str(errcode))


def test_a_wrong_secret_is_an_auth_error(wecom):
    with pytest.raises(ChannelError) as caught:
        client(wecom, corp_secret="wrong").send(note())
    assert (caught.value.kind, caught.value.code) == ("auth", "40001")


def test_wecom_sends_no_callbacks():
    with pytest.raises(CallbackRejected):
        WeComClient({}).parse_callback(headers={}, body=b"<xml/>", query={}, secret="x")
