"""Email through a real SMTP server on loopback (aiosmtpd): the parts, the headers as they
arrive, AUTH, STARTTLS and implicit TLS, and the server's refusals."""

from __future__ import annotations

import socket
import uuid

import pytest

from autocrm.channels.base import ChannelError, Outgoing, client_class
from autocrm.channels.smtp import SMTPClient
from autocrm.channels.testing.smtp import LocalSMTP

USER, PASSWORD = "crm@dealer.example.com", "s3cret-pa55"


def client(smtp: LocalSMTP, **config: str) -> SMTPClient:
    base = {
        "host": smtp.host,
        "port": str(smtp.port),
        "security": smtp.security,
        "username": USER,
        "password": PASSWORD,
        "from_address": "service@dealer.example.com",
        "from_name": "上海浦东4S店",
        "reply_to": "advisor@dealer.example.com",
        "ca_file": smtp.ca_file,
    }
    return SMTPClient({**base, **config})


def mail(**kwargs) -> Outgoing:
    defaults = {
        "message_id": uuid.uuid4().hex,
        "to": "wang.lei@example.cn",
        "subject": "您的爱车保养已完成 — 沪A12345",
        "text": "王先生您好：\n您的车辆已完成保养，可随时提车。",
        "html": "<p>王先生您好：</p><p>您的车辆已完成<b>保养</b>，可随时提车。</p>",
        "extra": {"to_name": "王磊"},
    }
    return Outgoing(**{**defaults, **kwargs})


@pytest.fixture
def smtp():
    with LocalSMTP(users={USER: PASSWORD}) as server:
        yield server


def test_the_provider_is_registered():
    assert client_class("smtp") is SMTPClient
    assert SMTPClient.channel == "email"
    assert [f.name for f in SMTPClient.config_fields if f.secret] == ["password"]


def test_a_message_arrives_with_text_and_html_alternatives_and_our_headers(smtp):
    msg = mail()
    result = client(smtp).send(msg)

    [received] = smtp.messages
    assert received.mail_from == "service@dealer.example.com"
    assert received.rcpt_tos == ["wang.lei@example.cn"]
    assert received.login == USER
    assert smtp.logins == [(USER, True)]
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n").strip() == msg.text.strip()
    assert "<b>保养</b>" in html.get_content()
    assert message["Message-ID"] == f"<{msg.message_id}@autocrm>"
    assert result.provider_id == f"<{msg.message_id}@autocrm>"
    assert result.status == "delivered"
    # Chinese names and subject travel encoded (RFC 2047) and decode back
    assert message["Subject"] == msg.subject
    assert message["From"].addresses[0].display_name == "上海浦东4S店"
    assert message["From"].addresses[0].addr_spec == "service@dealer.example.com"
    assert message["To"].addresses[0].display_name == "王磊"
    assert message["Reply-To"].addresses[0].addr_spec == "advisor@dealer.example.com"
    assert message["Date"]
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()
    assert b"=?utf-8?" in raw_headers


def test_a_text_only_message_is_a_single_part(smtp):
    client(smtp).send(mail(html=""))
    message = smtp.messages[0].message
    assert message.get_content_type() == "text/plain"


def test_starttls_is_used_before_auth():
    with LocalSMTP(users={USER: PASSWORD}, security="starttls") as server:
        client(server).send(mail())
        assert server.messages[0].tls is True
        assert server.messages[0].login == USER
        # a client that skips STARTTLS cannot authenticate there
        with pytest.raises(ChannelError) as caught:
            client(server, security="none").send(mail())
        assert caught.value.kind == "auth"


def test_implicit_tls():
    with LocalSMTP(users={USER: PASSWORD}, security="ssl") as server:
        client(server).send(mail())
        assert server.messages[0].tls is True


def test_an_untrusted_certificate_is_not_accepted():
    with LocalSMTP(users={USER: PASSWORD}, security="starttls") as server:
        with pytest.raises(ChannelError) as caught:
            client(server, ca_file="").send(mail())
        assert caught.value.kind == "retry"
        assert server.messages == []


def test_a_wrong_password_is_an_auth_error(smtp):
    with pytest.raises(ChannelError) as caught:
        client(smtp, password="wrong").send(mail())
    assert (caught.value.kind, caught.value.code) == ("auth", "535")
    assert smtp.messages == []


def test_a_password_smtplib_cannot_send_is_an_auth_error(smtp):
    with pytest.raises(ChannelError) as caught:
        client(smtp, password="密码").send(mail())
    assert (caught.value.kind, caught.value.code) == ("auth", "non_ascii_credentials")


def test_an_unknown_user_is_permanent_with_its_code(smtp):
    smtp.unknown = {"nobody@example.cn"}
    with pytest.raises(ChannelError) as caught:
        client(smtp).send(mail(to="nobody@example.cn"))
    assert (caught.value.kind, caught.value.code) == ("permanent", "550")
    assert "User unknown" in caught.value.message


def test_a_temporary_refusal_is_a_retry(smtp):
    smtp.greylisted = {"wang.lei@example.cn"}
    with pytest.raises(ChannelError) as caught:
        client(smtp).send(mail())
    assert (caught.value.kind, caught.value.code) == ("retry", "451")


def test_a_refused_message_body_is_permanent(smtp):
    smtp.data_answer = "552 5.3.4 Message size exceeds fixed limit"
    with pytest.raises(ChannelError) as caught:
        client(smtp).send(mail())
    assert (caught.value.kind, caught.value.code) == ("permanent", "552")


def test_connection_refused_is_a_retry():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = {"host": "127.0.0.1", "port": str(port), "security": "none", "from_address": "a@b.cn"}
    with pytest.raises(ChannelError) as caught:
        SMTPClient(config).send(mail())
    assert caught.value.kind == "retry"


def test_a_server_that_never_answers_is_a_retry():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never sends the greeting
        config = {
            "host": "127.0.0.1",
            "port": str(silent.getsockname()[1]),
            "security": "none",
            "from_address": "a@b.cn",
        }
        with pytest.raises(ChannelError) as caught:
            SMTPClient(config, timeout=0.5).send(mail())
    assert (caught.value.kind, caught.value.code) == ("retry", "timeout")


@pytest.mark.parametrize("to", ["", "not-an-address", "a@b.cn\r\nBcc: x@y.cn"])
def test_a_bad_address_is_permanent_and_nothing_is_sent(smtp, to):
    with pytest.raises(ChannelError) as caught:
        client(smtp).send(mail(to=to))
    assert caught.value.kind == "permanent"
    assert smtp.messages == []


def test_the_endpoint_overrides_the_configured_server(smtp):
    SMTPClient(
        {"host": "smtp.example.invalid", "security": "none", "from_address": "a@dealer.cn"},
        endpoint=f"smtp://{smtp.host}:{smtp.port}",
    ).send(mail())
    assert len(smtp.messages) == 1
    assert smtp.messages[0].login is None
