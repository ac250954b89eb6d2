"""A real SMTP server on loopback (aiosmtpd) for the email channel's tests, with AUTH, optional
STARTTLS or implicit TLS (a throwaway certificate for 127.0.0.1), and recipients that are
refused the way mail servers refuse them.

    from autocrm.channels.testing.smtp import LocalSMTP

    with LocalSMTP(users={"crm@example.com": "pw"}) as smtp:    # 127.0.0.1, a free port
        client = SMTPClient({"host": smtp.host, "port": str(smtp.port), "security": "none", ...})
        client.send(...)
        smtp.messages[0].message["Subject"]                      # the parsed message received
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    login: str | None
    tls: bool
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.message = parsed


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key (PEM files in ``directory``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(tz=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Handler:
    def __init__(self, owner: LocalSMTP) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        if address in self.owner.unknown:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in local recipient table"
        if address in self.owner.greylisted:
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.owner.data_answer:
            return self.owner.data_answer
        auth = getattr(session, "auth_data", None)
        login = auth.login.decode() if isinstance(auth, LoginPassword) and session.authenticated else None
        transport = getattr(server, "transport", None)
        tls = session.ssl is not None or (transport is not None and transport.get_extra_info("ssl_object") is not None)
        self.owner.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, login, tls))
        return "250 2.0.0 Ok: queued"


class _Controller(Controller):
    def _trigger_server(self) -> None:
        # Port 0 asks the system for a free port: learn which before aiosmtpd connects to it.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]  # an asyncio.Server
        super()._trigger_server()


class LocalSMTP:
    """``security``: ``"none"`` (AUTH allowed without TLS on loopback), ``"starttls"`` (STARTTLS
    required before AUTH, as real submission servers do) or ``"ssl"`` (implicit TLS, port 465
    style). ``ca_file`` is the certificate a client must trust for the TLS modes."""

    def __init__(self, *, users: dict[str, str] | None = None, security: str = "none", host: str = "127.0.0.1") -> None:
        self.users = dict(users or {})
        self.security = security
        self.host = host
        self.messages: list[Received] = []
        self.logins: list[tuple[str, bool]] = []  # (login, accepted)
        self.unknown: set[str] = set()  # recipients answered 550
        self.greylisted: set[str] = set()  # recipients answered 451
        self.data_answer = ""  # e.g. "552 5.3.4 Message size exceeds fixed limit"
        self._dir = tempfile.TemporaryDirectory(prefix="autocrm-smtp-")
        self.ca_file = ""
        kwargs: dict[str, Any] = {
            "authenticator": self._authenticate,
            # STARTTLS before AUTH, as submission servers require; with implicit TLS aiosmtpd
            # does not see the TLS layer (it only tracks STARTTLS), but the line is encrypted.
            "auth_require_tls": security == "starttls",
        }
        if security in ("starttls", "ssl"):
            cert, key = self_signed_certificate(Path(self._dir.name))
            self.ca_file = str(cert)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            if security == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        self._controller = _Controller(_Handler(self), hostname=host, port=0, **kwargs)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = login in self.users and self.users[login] == password
        self.logins.append((login, ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> LocalSMTP:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self._dir.cleanup()

    def __enter__(self) -> LocalSMTP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
