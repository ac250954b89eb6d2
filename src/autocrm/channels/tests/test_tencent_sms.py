"""Tencent Cloud SMS client against a local server that checks TC3-HMAC-SHA256 and the API 3.0
request format as Tencent documents them, and against the documentation's signing example."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import uuid
from zoneinfo import ZoneInfo

import pytest

from autocrm.channels.base import CallbackRejected, ChannelError, InboundReply, StatusReport, providers
from autocrm.channels.tencent_sms import TencentSmsClient, signing
from autocrm.channels.testing.fixtures import provider_fixtures
from autocrm.channels.testing.servers import Accepted, CallbackSink, FakeTencentSms, tc3_signature_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
SECRET = "store-callback-secret-0123456789"

# The worked example of "签名方法 v3" (CVM DescribeInstances): the documented key, timestamp and
# payload, and the documented hashes and signature.
DOC_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
DOC_TIMESTAMP = 1551113065
DOC_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
DOC_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}
DOC_HASHED_PAYLOAD = "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
DOC_HASHED_CANONICAL = "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
DOC_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"


fake, client, outgoing = provider_fixtures(FakeTencentSms, TencentSmsClient, template_code="1110", params=("4370", "5"))


def last_api_request(fake):
    return next(r for r in reversed(fake.requests) if not r.path.startswith("/_fake"))


# -- the published signing example -----------------------------------------------------------


def test_client_signing_reproduces_the_published_example():
    canonical = signing.canonical_request(
        method="POST", headers=DOC_HEADERS, signed_headers=("content-type", "host"), payload=DOC_PAYLOAD
    )
    assert canonical.endswith(DOC_HASHED_PAYLOAD)
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
        f"content-type;host\n{DOC_HASHED_PAYLOAD}"
    )
    to_sign = signing.string_to_sign(timestamp=DOC_TIMESTAMP, service="cvm", canonical=canonical)
    assert to_sign == f"TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n{DOC_HASHED_CANONICAL}"
    assert signing.signature(secret_key=DOC_SECRET_KEY, timestamp=DOC_TIMESTAMP, service="cvm", to_sign=to_sign) == (
        DOC_SIGNATURE
    )
    assert signing.authorization(
        secret_id="AKIDEXAMPLE",
        secret_key=DOC_SECRET_KEY,
        timestamp=DOC_TIMESTAMP,
        service="cvm",
        method="POST",
        headers=DOC_HEADERS,
        signed_headers=("content-type", "host"),
        payload=DOC_PAYLOAD,
    ) == (
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={DOC_SIGNATURE}"
    )


def test_the_fake_servers_verifier_reproduces_the_published_example():
    assert hashlib.sha256(DOC_PAYLOAD).hexdigest() == DOC_HASHED_PAYLOAD
    signature = tc3_signature_for(
        secret_key=DOC_SECRET_KEY,
        method="POST",
        headers=DOC_HEADERS,
        signed=["content-type", "host"],
        body=DOC_PAYLOAD,
        timestamp=DOC_TIMESTAMP,
        service="cvm",
    )
    assert signature == DOC_SIGNATURE


def test_the_credential_date_is_the_utc_date_not_beijings():
    # 1551113065 is 2019-02-26 00:44:25 in Beijing; the scope's date is still 2019-02-25.
    assert signing.utc_date(DOC_TIMESTAMP) == "2019-02-25"


# -- registry ---------------------------------------------------------------------------------


def test_registered_as_tencent_sms_with_its_settings():
    cls = providers()["tencent_sms"]
    assert cls is TencentSmsClient
    assert cls.channel == "sms" and cls.can_query
    assert [f.name for f in cls.config_fields] == ["secret_id", "secret_key", "sdk_app_id", "sign_name", "region"]
    assert [f.name for f in cls.config_fields if f.secret] == ["secret_key"]


# -- send -------------------------------------------------------------------------------------


def test_send_is_accepted_with_the_documented_request(fake, client):
    message = outgoing()
    result = client.send(message)

    assert result.status == "accepted"
    assert result.provider_id == fake.accepted(message.message_id).provider_id
    assert result.raw["Code"] == "Ok" and "secret" not in json.dumps(dict(result.raw)).lower()
    request = last_api_request(fake)
    assert request.method == "POST" and request.path == "/"
    assert request.headers["x-tc-action"] == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["authorization"].startswith(f"TC3-HMAC-SHA256 Credential={fake.secret_id}/")
    assert "SignedHeaders=content-type;host;x-tc-action," in request.headers["authorization"]
    assert request.json() == {
        "PhoneNumberSet": ["+8613812345678"],
        "SmsSdkAppId": fake.sdk_app_id,
        "TemplateId": "1110",
        "TemplateParamSet": ["4370", "5"],
        "SessionContext": message.message_id,
        "SignName": "腾讯云",
    }


def test_the_messages_sign_name_and_the_stores_region_are_used(fake):
    client = TencentSmsClient(fake.client_config(region="ap-beijing"), endpoint=fake.url)
    client.send(outgoing(sign_name="星辰汽车"))
    request = last_api_request(fake)
    assert request.json()["SignName"] == "星辰汽车"
    assert request.headers["x-tc-region"] == "ap-beijing"
    client.close()


def test_a_bare_mainland_number_is_sent_in_e164(fake, client):
    message = outgoing(to="13812345678")
    client.send(message)
    assert fake.accepted(message.message_id).phone == "+8613812345678"


def test_one_connection_is_kept_alive_across_sends(fake, client):
    for _ in range(20):
        client.send(outgoing())
    assert len(fake.messages) == 20
    assert fake.connections == 1


def test_a_wrong_secret_key_is_an_auth_error_and_nothing_is_sent(fake):
    client = TencentSmsClient(fake.client_config(secret_key="not-the-key"), endpoint=fake.url)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code) == ("auth", "AuthFailure.SignatureFailure")
    assert not caught.value.in_doubt
    assert fake.messages == {}
    client.close()


def test_an_unknown_secret_id_is_an_auth_error(fake):
    client = TencentSmsClient(fake.client_config(secret_id="AKIDunknown"), endpoint=fake.url)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code) == ("auth", "AuthFailure.SecretIdNotFound")
    client.close()


def test_a_wrong_sdk_app_id_is_an_auth_error(fake):
    client = TencentSmsClient(fake.client_config(sdk_app_id="1400000000"), endpoint=fake.url)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code) == ("auth", "InvalidParameterValue.SdkAppIdNotExist")
    client.close()


def test_missing_credentials_fail_before_any_request(fake):
    client = TencentSmsClient({"sdk_app_id": "1400006666"}, endpoint=fake.url)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert caught.value.kind == "auth"
    assert list(fake.requests) == []


@pytest.mark.parametrize("to", ["", "not a number", "+86", "12345", "+86138123456789999"])
def test_a_number_that_is_not_a_mobile_is_permanent_without_a_request(fake, client, to):
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing(to=to))
    assert caught.value.kind == "permanent"
    assert list(fake.requests) == []


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("FailedOperation.PhoneNumberInBlacklist", "blacklist"),
        ("FailedOperation.PhoneNumberOnBlacklist", "blacklist"),
        ("LimitExceeded.PhoneNumberDailyLimit", "rate_limited"),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", "rate_limited"),
        ("LimitExceeded.DeliveryFrequencyLimit", "rate_limited"),
        ("FailedOperation.MarketingSendTimeConstraint", "rate_limited"),
        ("InvalidParameterValue.IncorrectPhoneNumber", "permanent"),
        ("InvalidParameterValue.ContentLengthLimit", "permanent"),
        ("InvalidParameterValue.TemplateParameterLengthLimit", "permanent"),
        ("FailedOperation.TemplateIncorrectOrUnapproved", "permanent"),
        ("FailedOperation.SignatureIncorrectOrUnapproved", "permanent"),
        ("FailedOperation.ContainSensitiveWord", "permanent"),
        ("UnsupportedOperation.UnsuportedRegion", "permanent"),
        ("FailedOperation.InsufficientBalanceInSmsPackage", "auth"),
        ("UnauthorizedOperation.SerivceSuspendDueToArrears", "auth"),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "auth"),
        ("InternalError.Timeout", "retry"),
        ("InternalError.OtherError", "retry"),
        ("InternalError.SendAndRecvFail", "retry"),
    ],
)
def test_each_provider_error_maps_to_what_the_outbox_does_next(fake, client, code, kind):
    fake.fail_next(code)
    message = outgoing()
    with pytest.raises(ChannelError) as caught:
        client.send(message)
    assert (caught.value.kind, caught.value.code) == (kind, code)
    assert not caught.value.in_doubt  # Tencent answered: the message was not accepted
    assert fake.accepted(message.message_id) is None
    if kind == "rate_limited":
        assert caught.value.retry_after and caught.value.retry_after > 0


def test_rate_limits_say_how_long_to_wait():
    from autocrm.channels.tencent_sms import errors

    evening = dt.datetime(2026, 12, 1, 21, 30, tzinfo=SHANGHAI)
    assert errors.to_error("LimitExceeded.PhoneNumberOneHourLimit", "").retry_after == 3600
    assert errors.to_error("LimitExceeded.PhoneNumberDailyLimit", "", now=evening).retry_after == 2.5 * 3600
    late = dt.datetime(2026, 12, 1, 22, 30, tzinfo=SHANGHAI)
    assert errors.to_error("FailedOperation.MarketingSendTimeConstraint", "", now=late).retry_after == 9.5 * 3600
    assert errors.kind_of("SomethingNew.NeverSeen") == "permanent"
    assert errors.kind_of("RequestLimitExceeded.IPLimitExceeded") == "rate_limited"
    assert errors.kind_of("AuthFailure.SignatureExpire") == "auth"


def test_a_gateway_error_is_retried_in_doubt(fake, client):
    fake.http_error_next(502)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "http.502", True)


def test_an_unreachable_provider_is_retried_and_not_in_doubt():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {"secret_id": "AKIDx", "secret_key": "k", "sdk_app_id": "1400006666"}
    client = TencentSmsClient(config, endpoint=f"http://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(ChannelError) as caught:
        client.send(outgoing())
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "network.connect", False)
    client.close()


def test_a_timeout_after_acceptance_is_retried_in_doubt_and_query_finds_the_message(fake):
    impatient = TencentSmsClient(fake.client_config(), endpoint=fake.url, timeout=0.3)
    message = outgoing()
    fake.stall_next(accept=True)
    try:
        with pytest.raises(ChannelError) as caught:
            impatient.send(message)
    finally:
        fake.release()
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "network.timeout", True)
    assert fake.accepted(message.message_id) is not None

    # Another worker (another client object) reconciles: the provider has it, never resend.
    other = TencentSmsClient(fake.client_config(), endpoint=fake.url)
    report = other.query(message.message_id, to=message.to, sent_at=dt.datetime.now(dt.UTC))
    assert isinstance(report, StatusReport)
    assert report.message_id == message.message_id
    assert report.provider_id == fake.accepted(message.message_id).provider_id
    assert report.status == "delivered"
    impatient.close()
    other.close()


# -- query ------------------------------------------------------------------------------------


def test_query_pulls_by_number_in_a_window_around_sent_at(fake, client):
    message = outgoing()
    sent_at = dt.datetime.now(dt.UTC)
    client.send(message)
    report = client.query(message.message_id, to=message.to, sent_at=sent_at)
    assert report is not None and report.status == "delivered" and report.to == "+8613812345678"
    request = last_api_request(fake)
    assert request.headers["x-tc-action"] == "PullSmsSendStatusByPhoneNumber"
    body = request.json()
    assert body["PhoneNumber"] == "+8613812345678" and body["Offset"] == 0 and body["Limit"] == 100
    assert body["BeginTime"] <= sent_at.timestamp() <= body["EndTime"]


def test_query_returns_none_for_a_message_the_provider_never_had_once_receipts_are_due(fake, client):
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert client.query(uuid.uuid4().hex, to="+8613812345678", sent_at=long_ago) is None


def test_query_is_not_conclusive_before_receipts_are_due(fake, client):
    # Tencent lists a message only once its receipt came back: "absent" minutes after sending
    # may be "accepted, no receipt yet", so the outbox asks again instead of resending.
    with pytest.raises(ChannelError) as caught:
        client.query(uuid.uuid4().hex, to="+8613812345678", sent_at=dt.datetime.now(dt.UTC))
    assert (caught.value.kind, caught.value.code, caught.value.in_doubt) == ("retry", "query.no_receipt_yet", True)
    assert 0 < caught.value.retry_after <= 600

    eager = TencentSmsClient(fake.client_config(query_settle_seconds="0"), endpoint=fake.url)
    assert eager.query(uuid.uuid4().hex, to="+8613812345678", sent_at=dt.datetime.now(dt.UTC)) is None
    eager.close()


def test_query_waits_for_the_receipt_then_finds_it():
    with FakeTencentSms(receipts="manual") as fake:
        client = TencentSmsClient(fake.client_config(), endpoint=fake.url)
        message = outgoing()
        sent_at = dt.datetime.now(dt.UTC)
        client.send(message)
        with pytest.raises(ChannelError):
            client.query(message.message_id, to=message.to, sent_at=sent_at)
        fake.deliver(message.message_id, delivered=False, error_code="MBBLACK")
        report = client.query(message.message_id, to=message.to, sent_at=sent_at)
        assert report is not None and report.status == "failed" and report.blacklisted
        client.close()


def test_query_splits_the_window_when_a_page_is_full(fake, client):
    # 250 other messages to the same number around ours: the pull has no offset (fixed at 0) and
    # returns 100 at most, so the client halves the window until ours shows.
    now = dt.datetime.now(dt.UTC)
    for i in range(250):
        at = now - dt.timedelta(minutes=14) + dt.timedelta(seconds=3 * i)
        fake.messages[f"other{i}"] = Accepted(
            message_id=f"other{i}",
            provider_id=f"2645:other{i}",
            phone="+8613812345678",
            template="1110",
            params=[],
            sign_name="腾讯云",
            accepted_at=at,
            receipt_at=at,
        )
    ours = "f" * 32
    at = now - dt.timedelta(minutes=9)
    fake.messages[ours] = Accepted(ours, "2645:ours", "+8613812345678", "1110", [], "腾讯云", at, at)
    report = client.query(ours, to="+8613812345678", sent_at=now - dt.timedelta(minutes=10))
    assert report is not None and report.provider_id == "2645:ours"
    assert sum(1 for r in fake.requests if r.headers.get("x-tc-action") == "PullSmsSendStatusByPhoneNumber") > 1


def test_query_refuses_to_guess_beyond_seven_days(client):
    with pytest.raises(ChannelError) as caught:
        client.query(uuid.uuid4().hex, to="+8613812345678", sent_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
    assert caught.value.in_doubt and caught.value.code == "query.too_old"


# -- callbacks --------------------------------------------------------------------------------


def accepted(message_id: str = "a" * 32, *, delivered: bool = True, error: str = "", at=None) -> Accepted:
    at = at or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    return Accepted(message_id, "2645:0001", "+8613812345678", "1110", [], "腾讯云", at, at, delivered, error)


def test_status_report_push_is_parsed(fake, client):
    body = fake.receipt_push([accepted(), accepted("b" * 32, delivered=False, error="UNDELIV")])
    reports = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert [type(r) for r in reports] == [StatusReport, StatusReport]
    first, second = reports
    assert (first.message_id, first.provider_id, first.status, first.to) == (
        "a" * 32,
        "2645:0001",
        "delivered",
        "+8613812345678",
    )
    assert first.at is not None and first.at.tzinfo is not None
    assert (second.status, second.code, second.blacklisted) == ("failed", "UNDELIV", False)


def test_the_documented_push_without_ext_is_matched_by_serial_number(client):
    # The documented push carries sid (= SerialNo) only; ext (our SessionContext) when enabled.
    at = dt.datetime.now(dt.UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    body = json.dumps(
        [
            {
                "user_receive_time": at,
                "nationcode": "86",
                "mobile": "13812345678",
                "report_status": "SUCCESS",
                "errmsg": "DELIVRD",
                "description": "用户短信送达成功",
                "sid": "2645:104000000",
            }
        ]
    ).encode()
    (report,) = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert (report.provider_id, report.message_id, report.status, report.to) == (
        "2645:104000000",
        "",
        "delivered",
        "+8613812345678",
    )


def test_a_receipt_saying_blacklisted_marks_the_number(fake, client):
    item = json.loads(fake.receipt_push([accepted(delivered=False, error="MBBLACK")]))
    item[0]["description"] = "手机号在黑名单中"
    reports = client.parse_callback(headers={}, body=json.dumps(item).encode(), query={"secret": SECRET}, secret=SECRET)
    assert reports[0].blacklisted


@pytest.mark.parametrize("text", ["R", "退订", "T", "TD", "好的，周六到店"])
def test_reply_push_is_an_inbound_reply(fake, client, text):
    body = fake.reply_push("+8613812345678", text)
    (reply,) = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert isinstance(reply, InboundReply)
    assert (reply.sender, reply.text) == ("+8613812345678", text)
    assert reply.at is not None


@pytest.mark.parametrize(
    "query",
    [{}, {"secret": ""}, {"secret": "wrong"}, {"secret": SECRET + "x"}, {"secret": SECRET[:-1]}, {"other": SECRET}],
)
def test_a_push_without_the_stores_secret_is_rejected(fake, client, query):
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=fake.receipt_push([accepted()]), query=query, secret=SECRET)


def test_a_store_without_a_callback_secret_accepts_no_push(fake, client):
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=fake.receipt_push([accepted()]), query={"secret": ""}, secret="")


@pytest.mark.parametrize(
    "at",
    [dt.timedelta(days=-8), dt.timedelta(hours=2)],
    ids=["stale", "future"],
)
def test_stale_or_future_pushes_are_rejected(fake, client, at):
    when = dt.datetime.now(dt.UTC) + at
    with pytest.raises(CallbackRejected):
        client.parse_callback(
            headers={}, body=fake.receipt_push([accepted(at=when)]), query={"secret": SECRET}, secret=SECRET
        )
    with pytest.raises(CallbackRejected):
        client.parse_callback(
            headers={}, body=fake.reply_push("+8613812345678", "R", at=when), query={"secret": SECRET}, secret=SECRET
        )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b"[1, 2]",
        b'"text"',
        b'{"unexpected": true}',
        b'[{"report_status": "MAYBE", "user_receive_time": "2026-12-01 08:00:00", "mobile": "1", "sid": "x"}]',
        b'[{"report_status": "SUCCESS", "user_receive_time": "yesterday", "mobile": "13812345678", "sid": "x"}]',
        b'[{"report_status": "SUCCESS", "user_receive_time": "2026-12-01 08:00:00", "sid": "x"}]',
        b'[{"report_status": "SUCCESS", "user_receive_time": ["2026"], "mobile": "13812345678", "sid": "x"}]',
        b'{"text": "R", "mobile": "13812345678", "time": "soon"}',
        b'{"text": {"a": 1}, "mobile": "13812345678", "time": 1764547200}',
        b"[" + b'{"text":"R"},' * 2000 + b'{"text":"R"}]',
    ],
)
def test_garbage_bodies_are_rejected(client, body):
    with pytest.raises(CallbackRejected):
        client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)


def test_the_callback_answer_is_what_tencent_expects(client):
    answer = client.callback_answer()
    assert answer.status == 200
    assert json.loads(answer.body) == {"result": 0, "errmsg": "OK"}


# -- the fake pushes receipts to a callback URL ----------------------------------------------


def test_the_fake_pushes_receipts_to_the_callback_url():
    with CallbackSink() as sink:
        fake = FakeTencentSms(callback_url=f"{sink.url}/callback?secret={SECRET}").start()
        client = TencentSmsClient(fake.client_config(), endpoint=fake.url)
        message = outgoing()
        client.send(message)
        fake.stop()  # flushes the pusher
        client.close()
    (body,) = sink.bodies
    assert sink.requests[0].query == {"secret": SECRET}
    (report,) = client.parse_callback(headers={}, body=body, query={"secret": SECRET}, secret=SECRET)
    assert report.message_id == message.message_id and report.status == "delivered"


def test_sends_reuse_one_kept_alive_connection_per_thread(fake, client):
    for _ in range(3):
        client.send(outgoing())
    assert len(client.http._all) == 1  # channels/keepalive.py: one connection for the three
    assert last_api_request(fake).headers["host"] == client._host()  # the signed Host, as signed
