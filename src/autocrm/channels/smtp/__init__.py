"""Email through SMTP — provider ``smtp`` (channel ``email``).

One connection per message (``STARTTLS`` on 587, implicit TLS on 465, or plain on a trusted
relay), ``AUTH`` when a username is set, and a ``multipart/alternative`` message: the text part
first, the HTML part second (mail clients show the last part they can render).
``Message-ID`` is ``<our message id@autocrm>`` so that bounces and replies find the message
again; names and subjects in Chinese are encoded (RFC 2047, UTF-8) by the standard library's
SMTP policy.

Answers: 4xx (greylisting, mailbox busy) and any connection failure or timeout → ``retry``;
5xx → ``permanent`` with the code (550 user unknown: ``"550"``); 535 and missing STARTTLS/AUTH
→ ``auth``. A message the server accepted is ``delivered`` (handed to the mail system).

Idempotency: none — SMTP has no way to ask whether a Message-ID was accepted, so an in-doubt
message is never resent (``can_query = False``); receiving systems that de-duplicate by
Message-ID would drop a resend, but that is not guaranteed.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

from ..base import ChannelClient, ChannelError, ConfigField, ErrorKind, Outgoing, SendResult, register

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def message_id_header(message_id: str) -> str:
    return f"<{message_id}@autocrm>"


def _address(value: str, name: str = "") -> Address:
    try:
        local, _sep, domain = value.strip().rpartition("@")
        if not local or not domain:
            raise ValueError(value)
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise ChannelError("permanent", "bad_address", value) from exc


def _kind(code: int) -> ErrorKind:
    return "retry" if 400 <= code < 500 else "permanent"


@register
class SMTPClient(ChannelClient):
    provider = "smtp"
    channel = "email"
    label = _("Email (SMTP)")
    config_fields = (
        ConfigField("host", _("SMTP server")),
        ConfigField("port", _("Port"), required=False, help=_("587 for STARTTLS, 465 for SSL (the default for each).")),
        ConfigField("security", _("Connection security"), required=False, help=_("starttls (default), ssl or none.")),
        ConfigField("username", _("Username"), required=False),
        ConfigField("password", _("Password"), secret=True, required=False),
        ConfigField("from_address", _("Sender address")),
        ConfigField("from_name", _("Sender name"), required=False),
        ConfigField("reply_to", _("Reply-To address"), required=False),
        ConfigField(
            "ca_file",
            _("CA certificate file"),
            required=False,
            help=_("Only for a private mail relay whose certificate is not publicly trusted."),
        ),
    )
    can_query = False
    rate_per_second = 10.0

    def _server(self) -> tuple[str, int, str]:
        security = self.config.get("security") or "starttls"
        if security not in SECURITY:
            raise ChannelError("auth", "bad_security", security)
        host = self.config.get("host", "")
        port_text = self.config.get("port") or ""
        if self.endpoint:  # smtp://host:port overrides the configured server
            parts = urlsplit(self.endpoint)
            host = parts.hostname or host
            port_text = str(parts.port or port_text)
        try:
            port = int(port_text) if port_text else DEFAULT_PORTS[security]
        except ValueError:
            raise ChannelError("auth", "bad_port", port_text) from None
        if not host:
            raise ChannelError("auth", "no_host")
        return host, port, security

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.get("ca_file") or None)

    def build(self, message: Outgoing) -> EmailMessage:
        """The message as it goes on the wire (also what the tests compare with)."""
        mail = EmailMessage(policy=email.policy.SMTP)
        mail["From"] = _address(self.config.get("from_address", ""), self.config.get("from_name", ""))
        mail["To"] = _address(message.to, str(message.extra.get("to_name", "")))
        if self.config.get("reply_to"):
            mail["Reply-To"] = _address(self.config["reply_to"])
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id_header(message.message_id)
        mail.set_content(message.text or "", charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    def send(self, message: Outgoing) -> SendResult:
        if not message.to:
            raise ChannelError("permanent", "no_address", "no email address")
        mail = self.build(message)
        host, port, security = self._server()
        try:
            smtp: smtplib.SMTP
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=self._tls())
            else:
                smtp = smtplib.SMTP(host, port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if security == "starttls":
                    smtp.starttls(context=self._tls())
                    smtp.ehlo()
                if self.config.get("username"):
                    smtp.login(self.config["username"], self.config.get("password", ""))
                refused = smtp.send_message(mail, from_addr=self.config.get("from_address"), to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b""))
            raise ChannelError(_kind(code), str(code), _text(text)) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise ChannelError("auth", str(exc.smtp_code), _text(exc.smtp_error)) from exc
        except UnicodeEncodeError as exc:  # smtplib sends AUTH in ASCII only
            raise ChannelError("auth", "non_ascii_credentials", "the SMTP username and password must be ASCII") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelError("auth", "not_supported", str(exc)) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError, smtplib.SMTPHeloError) as exc:
            raise ChannelError(_kind(exc.smtp_code), str(exc.smtp_code), _text(exc.smtp_error)) from exc
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(_kind(exc.smtp_code), str(exc.smtp_code), _text(exc.smtp_error)) from exc
        except TimeoutError as exc:
            raise ChannelError("retry", "timeout", str(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, DNS, TLS handshake
            # smtplib reports a read that timed out as a disconnection ("… closed: timed out")
            what = "timeout" if "timed out" in str(exc) else "network"
            raise ChannelError("retry", what, str(exc)) from exc
        if refused:  # pragma: no cover - one recipient: refused means SMTPRecipientsRefused
            code, text = next(iter(refused.values()))
            raise ChannelError(_kind(code), str(code), _text(text))
        return SendResult(provider_id=mail["Message-ID"], status="delivered", raw={"server": host, "port": port})


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
