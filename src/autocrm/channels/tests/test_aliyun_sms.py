"""Alibaba Cloud SMS client against a local server that checks the RPC signature (HMAC-SHA1),
nonce, timestamp and dysmsapi parameters as Aliyun documents them, and against the published
signing examples."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from zoneinfo import ZoneInfo

import pytest

from autocrm.channels.aliyun_sms import AliyunSmsClient, errors, signing
from autocrm.channels.base import CallbackRejected, ChannelError, InboundReply, StatusReport, providers
from autocrm.channels.testing.fixtures import provider_fixtures
from autocrm.channels.testing.servers import Accepted, CallbackSink, FakeAliyunSms, aliyun_rpc_signature_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "store-callback-secret-0123456789"

# The SMS documentation's worked example (SendSms, GET, AccessKeyId testId / secret testSecret).
DOC_SEND_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
DOC_SEND_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001"
    "%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4"
    "%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1"
    "%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode"
    "%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp"
    "%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)
DOC_SEND_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="
# The RPC signature documentation's example (ECS DescribeRegions, testid / testsecret).
DOC_RPC_PARAMS = {
    "Timestamp": "2016-02-23T12:46:24Z",
    "Format": "XML",
    "AccessKeyId": "testid",
    "Action": "DescribeRegions",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "Version": "2014-05-26",
    "SignatureVersion": "1.0",
}
DOC_RPC_SIGNATURE = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


fake, client, outgoing = provider_fixtures(
    FakeAliyunSms, AliyunSmsClient, template_code="SMS_71390007", data={"name": "王先生", "plate": "沪A·12345"}
)


def api_requests(fake, action=None):
    found = [r for r in fake.requests if not r.path.startswith("/_fake")]
    return [r for r in found if action is None or r.form().get("Action") == action]


# -- the published signing examples ----------------------------------------------------------


def test_client_signing_reproduces_the_published_sendsms_example():
    assert signing.string_to_sign("GET", DOC_SEND_PARAMS) == DOC_SEND_STRING_TO_SIGN
    assert signing.signature("testSecret", "GET", DOC_SEND_PARAMS) == DOC_SEND_SIGNATURE


def test_client_signing_reproduces_the_published_rpc_example():
    assert signing.signature("testsecret", "GET", DOC_RPC_PARAMS) == DOC_RPC_SIGNATURE


def test_the_fake_servers_verifier_reproduces_both_published_examples():
    assert aliyun_rpc_signature_for("testSecret", "GET", DOC_SEND_PARAMS) == DOC_SEND_SIGNATURE
    assert aliyun_rpc_signature_for("testsecret", "GET", DOC_RPC_PARAMS) == DOC_RPC_SIGNATURE


def test_percent_encoding_follows_the_rpc_rules():
    assert signing.percent_encode("a b*c~d/e+f") == "a%20b%2Ac~d%2Fe%2Bf"
    assert signing.percent_encode("派") == "%E6%B4%BE"


# -- registry ---------------------------------------------------------------------------------


def test_registered_as_aliyun_sms_with_its_settings():
    cls = providers()["aliyun_sms"]
    assert cls is AliyunSmsClient
    assert cls.channel == "sms" and cls.can_query
    assert [f.name for f in cls.config_fields] == ["access_key_id", "access_key_secret", "sign_name"]
    assert [f.name for f in cls.config_fields if f.secret] == ["access_key_secret"]


# -- send -------------------------------------------------------------------------------------


def test_send_is_accepted_with_the_documented_request(fake, client):
    message = outgoing()
    result = client.send(message)

    assert result.status == "accepted"
    assert result.provider_id == fake.accepted(message.message_id).provider_id
    assert result.provider_id.endswith("^0")
    (request,) = api_requests(fake)
    assert request.method == "POST" and request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = request.form()
    assert form["Action"] == "SendSms" and form["Version"] == "2017-05-25" and form["Format"] == "JSON"
    assert form["SignatureMethod"] == "HMAC-SHA1" and form["SignatureVersion"] == "1.0"
    assert form["PhoneNumbers"] == "13812345678"  # mainland numbers without +86
    assert form["SignName"] == "阿里云短信测试"
    assert form["TemplateCode"] == "SMS_71390007"
    assert json.loads(form["TemplateParam"]) == {"name": "王先生", "plate": "沪A·12345"}
    assert form["OutId"] == message.message_id
    assert dt.datetime.strptime(form["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert "AccessKeySecret" not in form and fake.access_key_secret not in request.body.decode()


def test_every_request_carries_a_fresh_nonce(fake, client):
    for _ in range(5):
        client.send(outgoing())
    nonces = {r.form()["SignatureNonce"] for r in api_requests(fake)}
    assert len(nonces) == 5


def test_one_connection_is_kept_alive_across_sends(fake, client):
    for _ in range(20):
        client.send(outgoing())
    assert len(fake.messages) == 20
    assert fake.connections == 1


def test_an_international_number_carries_its_country_code_without_plus(fake, client):
    message = outgoing(to="+85291234567")
    client.send(message)
    assert fake.accepted(message.message_id).phone == "85291234567"


def test_a_wrong_secret_is_signature_does_not_match(fake):
    client = AliyunSmsClient(fake.client_config(access_key_secret="nope"), endpoint=fake.url)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("auth", "SignatureDoesNotMatch", False)
    assert fake.messages == {}
    client.close()


def test_an_unknown_access_key_is_an_auth_error(fake):
    client = AliyunSmsClient(fake.client_config(access_key_id="LTAIunknown"), endpoint=fake.url)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code) == ("auth", "InvalidAccessKeyId.NotFound")
    client.close()


def test_an_unapproved_template_is_permanent():
    with FakeAliyunSms(templates={"SMS_1"}) as fake:
        client = AliyunSmsClient(fake.client_config(), endpoint=fake.url)
        with pytest.raises(ChannelError) as caught:
            client.send(outgoing(template_code="SMS_2"))
        assert (caught.value.kind, caught.value.code) == ("permanent", "isv.SMS_TEMPLATE_ILLEGAL")
        client.close()


@pytest.mark.parametrize("to", ["", "mobile", "+1", "123"])
def test_a_number_that_is_not_a_mobile_is_permanent_without_a_request(fake, client, to):
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing(to=to))
    assert caught.value.kind == "permanent"
    assert api_requests(fake) == []


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("isv.CUSTOMER_REFUSED", "blacklist"),
        ("isv.BUSINESS_LIMIT_CONTROL", "rate_limited"),
        ("isv.DAY_LIMIT_CONTROL", "rate_limited"),
        ("isv.MONTH_LIMIT_CONTROL", "rate_limited"),
        ("Throttling.User", "rate_limited"),
        ("isv.BLACK_KEY_CONTROL_LIMIT", "permanent"),  # blocked *words* in the variables, not the number
        ("isv.MOBILE_NUMBER_ILLEGAL", "permanent"),
        ("isv.SMS_TEMPLATE_ILLEGAL", "permanent"),
        ("isv.SMS_SIGNATURE_ILLEGAL", "permanent"),
        ("isv.TEMPLATE_MISSING_PARAMETERS", "permanent"),
        ("isv.PARAM_NOT_SUPPORT_URL", "permanent"),
        ("isv.SMS_CONTENT_ILLEGAL", "permanent"),
        ("isv.AMOUNT_NOT_ENOUGH", "auth"),
        ("isv.OUT_OF_SERVICE", "auth"),
        ("isp.RAM_PERMISSION_DENY", "auth"),
        ("isv.ACCOUNT_ABNORMAL", "auth"),
        ("isp.SYSTEM_ERROR", "retry"),
    ],
)
def test_each_provider_error_maps_to_what_the_outbox_does_next(fake, client, code, kind):
    fake.fail_next(code)
    message = outgoing()
    with pytest.raises(ChannelError) as caught:
        client.send(message)
    assert (caught.value.kind, caught.value.code) == (kind, code)
    assert not caught.value.in_doubt
    assert fake.accepted(message.message_id) is None
    if kind == "rate_limited":
        assert caught.value.retry_after and caught.value.retry_after > 0


def test_day_limit_waits_until_beijing_midnight():
    evening = dt.datetime(2026, 12, 1, 22, 0, tzinfo=SHANGHAI)
    assert errors.to_error("isv.DAY_LIMIT_CONTROL", "", now=evening).retry_after == 2 * 3600
    assert errors.kind_of("isv.SOMETHING_NEW") == "permanent"
    assert errors.kind_of("InvalidTimeStamp.Expired") == "auth"


def test_a_gateway_error_is_retried_in_doubt(fake, client):
    fake.http_error_next(503)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "http.503", True)


def test_a_timeout_after_acceptance_is_retried_in_doubt_and_query_finds_the_message(fake):
    impatient = AliyunSmsClient(fake.client_config(), endpoint=fake.url, timeout=0.3)
    message = outgoing()
    sent_at = dt.datetime.now(dt.UTC)
    fake.stall_next(accept=True)
    try:
        with pytest.raises(ChannelError) as caught:
            impatient.send(message)
    finally:
        fake.release()
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "network.timeout", True)

    other = AliyunSmsClient(fake.client_config(), endpoint=fake.url)
    report = other.query(message.message_id, to=message.to, sent_at=sent_at)
    assert isinstance(report, StatusReport)
    assert (report.message_id, report.status, report.to) == (message.message_id, "delivered", "+8613812345678")
    impatient.close()
    other.close()


# -- query ------------------------------------------------------------------------------------


def test_query_asks_for_the_number_on_the_beijing_date_of_sending():
    with FakeAliyunSms(receipts="manual") as fake:
        client = AliyunSmsClient(fake.client_config(), endpoint=fake.url)
        message = outgoing()
        sent_at = dt.datetime.now(dt.UTC)
        client.send(message)
        report = client.query(message.message_id, to=message.to, sent_at=sent_at)
        assert report is not None and report.status == "accepted"  # listed, waiting for the receipt
        # Near Beijing midnight the client also asks about the neighbouring day (in either order):
        # one of its questions is about the day of sending.
        day = sent_at.astimezone(SHANGHAI).strftime("%Y%m%d")
        forms = [r.form() for r in api_requests(fake, "QuerySendDetails")]
        [form] = [f for f in forms if f["SendDate"] == day]
        assert form["PhoneNumber"] == "13812345678"
        assert (form["PageSize"], form["CurrentPage"]) == ("50", "1")

        fake.deliver(message.message_id, delivered=False, error_code="MK:0001 BLACK")
        report = client.query(message.message_id, to=message.to, sent_at=sent_at)
        assert report is not None and report.status == "failed" and report.blacklisted
        client.close()


def test_query_returns_none_for_a_message_the_provider_never_had(fake, client):
    client.send(outgoing())  # another message to the same number
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert client.query(uuid.uuid4().hex, to="+8613812345678", sent_at=earlier) is None


def test_query_moments_after_sending_is_not_conclusive(fake, client):
    with pytest.raises(ChannelError) as caught:
        client.query(uuid.uuid4().hex, to="+8613812345678", sent_at=dt.datetime.now(dt.UTC))
    assert (caught.value.kind, caught.value.in_doubt) == ("retry", True)
    eager = AliyunSmsClient(fake.client_config(query_settle_seconds="0"), endpoint=fake.url)
    assert eager.query(uuid.uuid4().hex, to="+8613812345678", sent_at=dt.datetime.now(dt.UTC)) is None
    eager.close()


def _record(fake, message_id: str, at: dt.datetime, phone: str = "13812345678") -> None:
    fake.messages[message_id] = Accepted(message_id, f"biz-{message_id}", phone, "SMS_1", {}, "阿里云短信测试", at, at)


def test_query_reads_every_page(fake, client):
    noon = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).astimezone(SHANGHAI)
    day_start = noon.replace(hour=12, minute=0, second=1)
    for i in range(120):
        _record(fake, f"other{i:03d}", day_start + dt.timedelta(seconds=i))
    _record(fake, "ours", day_start + dt.timedelta(seconds=200))
    report = client.query("ours", to="+8613812345678", sent_at=day_start + dt.timedelta(seconds=199))
    assert report is not None and report.message_id == "ours"
    assert [r.form()["CurrentPage"] for r in api_requests(fake, "QuerySendDetails")] == ["1", "2", "3"]


def test_query_near_midnight_checks_the_next_beijing_day(fake, client):
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).astimezone(SHANGHAI)
    sent_at = yesterday.replace(hour=23, minute=59, second=58)
    _record(fake, "ours", sent_at + dt.timedelta(seconds=4))  # accepted 00:00:02 the next day
    report = client.query("ours", to="+8613812345678", sent_at=sent_at)
    assert report is not None and report.message_id == "ours"
    dates = [r.form()["SendDate"] for r in api_requests(fake, "QuerySendDetails")]
    assert dates == [sent_at.strftime("%Y%m%d"), (sent_at + dt.timedelta(days=1)).strftime("%Y%m%d")]


def test_query_just_after_midnight_checks_the_day_before_too(fake, client):
    # Our clock and Aliyun's may differ by seconds: sent "00:00:03" may be logged "23:59:59".
    day = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).astimezone(SHANGHAI)
    sent_at = day.replace(hour=0, minute=0, second=3)
    _record(fake, "ours", sent_at - dt.timedelta(seconds=4))
    report = client.query("ours", to="+8613812345678", sent_at=sent_at)
    assert report is not None
    assert next(r.form()["SendDate"] for r in api_requests(fake, "QuerySendDetails")) == (
        sent_at - dt.timedelta(days=1)
    ).strftime("%Y%m%d")


# -- callbacks --------------------------------------------------------------------------------


def accepted(message_id: str = "a" * 32, *, delivered: bool = True, error: str = "", at=None) -> Accepted:
    at = at or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    return Accepted(
        message_id, "900619746936498^0", "13812345678", "SMS_1", {}, "阿里云短信测试", at, at, delivered, error
    )


def test_sms_report_push_is_parsed(fake, client):
    body = fake.receipt_push([accepted(), accepted("b" * 32, delivered=False, error="IC:0015")])
    first, second = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert isinstance(first, StatusReport) and isinstance(second, StatusReport)
    assert (first.message_id, first.provider_id, first.status, first.to, first.code) == (
        "a" * 32,
        "900619746936498^0",
        "delivered",
        "+8613812345678",
        "DELIVERED",
    )
    assert (second.status, second.code, second.blacklisted) == ("failed", "IC:0015", False)


def test_a_receipt_saying_blacklisted_marks_the_number(fake, client):
    body = fake.receipt_push([accepted(delivered=False, error="W-BLACK")])
    (report,) = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert report.blacklisted


def test_success_may_come_as_a_string(fake, client):
    items = json.loads(fake.receipt_push([accepted()]))
    items[0]["success"] = "true"
    (report,) = client.parse_callback(
        headers={}, body=json.dumps(items).encode(), query={"secret": SECRET}, secret=SECRET
    )
    assert report.status == "delivered"


@pytest.mark.parametrize("text", ["R", "退订", "TD", "收到，谢谢"])
def test_sms_up_push_is_an_inbound_reply(fake, client, text):
    body = fake.reply_push("+8613812345678", text)
    (reply,) = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert isinstance(reply, InboundReply)
    assert (reply.sender, reply.text, reply.extension) == ("+8613812345678", text, "1234")


@pytest.mark.parametrize("query", [{}, {"secret": ""}, {"secret": "forged"}, {"secret": SECRET.upper()}])
def test_a_push_without_the_stores_secret_is_rejected(fake, client, query):
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=fake.receipt_push([accepted()]), query=query, secret=SECRET)


@pytest.mark.parametrize("shift", [dt.timedelta(days=-8), dt.timedelta(minutes=30)], ids=["stale", "future"])
def test_stale_or_future_pushes_are_rejected(fake, client, shift):
    when = dt.datetime.now(dt.UTC) + shift
    for body in (fake.receipt_push([accepted(at=when)]), fake.reply_push("+8613812345678", "R", at=when)):
        with pytest.raises(CallbackRejected):
            client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<xml/>",
        b"[]",
        b"[null]",
        b'{"phone_number": "13812345678"}',
        b'[{"success": "maybe", "report_time": "2026-12-01 08:00:00", "biz_id": "1", "phone_number": "1"}]',
        b'[{"success": true, "report_time": 1764547200, "biz_id": "1", "phone_number": "13812345678"}]',
        b'[{"success": true, "report_time": "2026-12-01 08:00:00", "phone_number": "13812345678"}]',
        b'[{"content": "R", "phone_number": "13812345678"}]',
        b'[{"content": ["R"], "phone_number": "13812345678", "send_time": "2026-12-01 08:00:00"}]',
    ],
)
def test_garbage_bodies_are_rejected(client, body):
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)


def test_the_callback_answer_is_what_aliyun_expects(client):
    answer = client.callback_answer()
    assert answer.status == 200
    assert json.loads(answer.body) == {"code": 0, "msg": "成功"}


def test_the_fake_pushes_a_receipt_when_it_comes_back():
    with CallbackSink(answer='{"code":0,"msg":"成功"}'.encode()) as sink:
        fake = FakeAliyunSms(receipts="manual", callback_url=f"{sink.url}/callback?secret={SECRET}").start()
        client = AliyunSmsClient(fake.client_config(), endpoint=fake.url)
        message = outgoing()
        client.send(message)
        fake.deliver(message.message_id, delivered=False, error_code="MBBLACK")
        fake.stop()  # flushes the pusher
        client.close()
    (body,) = sink.bodies
    (report,) = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert (report.message_id, report.status, report.blacklisted) == (message.message_id, "failed", True)


def test_one_client_is_shared_by_threads(fake, client):
    import threading

    messages = [outgoing() for _ in range(120)]
    errors_seen: list[BaseException] = []

    def work(chunk):
        try:
            for message in chunk:
                client.send(message)
        except BaseException as exc:  # surfaced below
            errors_seen.append(exc)

    threads = [threading.Thread(target=work, args=(messages[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors_seen == []
    assert set(fake.messages) == {m.message_id for m in messages}
    assert fake.connections <= 6  # pooled: at most one connection per concurrent thread
