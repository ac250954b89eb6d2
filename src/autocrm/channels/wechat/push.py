"""WeChat server push (消息推送) for Official Accounts and Mini Programs: the signature check,
a safe XML reader, and the safe mode (安全模式, AES) envelope.

Every push carries ``signature``, ``timestamp`` and ``nonce`` in the query string, where
``signature = sha1(sort(Token, timestamp, nonce) joined)``; the first check of the URL is a GET
with ``echostr`` which is answered as is. In safe mode (``encrypt_type=aes``) the body is
``<xml><Encrypt>…</Encrypt></xml>`` and ``msg_signature = sha1(sort(Token, timestamp, nonce,
Encrypt))``; the ciphertext is AES-256-CBC with key ``base64(EncodingAESKey + "=")``, IV its
first 16 bytes, PKCS#7 padding to 32 bytes, over ``16 random bytes · length (4 bytes, big
endian) · message · appid``.

A push older than :data:`MAX_AGE` seconds (or from the future by as much) is rejected, so a
captured push cannot be replayed later. XML with a DOCTYPE or an entity declaration is rejected
before any entity is expanded (WeChat never sends one: it is an XXE or billion-laughs attempt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
from collections.abc import Mapping
from typing import Any, NoReturn
from xml.etree import ElementTree as ET
from xml.parsers import expat

from django.utils.translation import gettext as _

from ..base import CallbackRejected

MAX_AGE = 300  # seconds
MAX_BODY = 256 * 1024


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 — WeChat's scheme


def check(query: Mapping[str, str], token: str, *, now: float | None = None, encrypted: str | None = None) -> None:
    """Raise :class:`CallbackRejected` unless the query is signed with ``token`` and fresh."""
    if not token:
        raise CallbackRejected(_("No push token is configured."))
    timestamp = str(query.get("timestamp", ""))
    nonce = str(query.get("nonce", ""))
    if encrypted is None:
        given = str(query.get("signature", ""))
        expected = signature(token, timestamp, nonce)
    else:
        given = str(query.get("msg_signature", ""))
        expected = signature(token, timestamp, nonce, encrypted)
    if not given or not hmac.compare_digest(given.lower().encode(), expected.encode()):
        raise CallbackRejected(_("The push signature is wrong."))
    try:
        sent = int(timestamp)
    except ValueError:
        raise CallbackRejected(_("The push timestamp is not a number.")) from None
    if abs((time.time() if now is None else now) - sent) > MAX_AGE:
        raise CallbackRejected(_("The push is stale."))


def _refuse(*_args: Any) -> NoReturn:
    raise ValueError("DTDs and entities are not accepted")


def parse_xml(body: bytes) -> ET.Element:
    """The push's root element, read by expat with every DTD and entity declaration refused
    before it takes effect (what defusedxml does, without the dependency)."""
    if len(body) > MAX_BODY:
        raise CallbackRejected(_("The push is too large."))
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(body, True)
        root = builder.close()
    except (expat.ExpatError, ValueError, AssertionError, IndexError) as exc:
        raise CallbackRejected(_("The push is not valid XML.")) from exc
    if root.tag != "xml":
        raise CallbackRejected(_("The push is not valid XML."))
    return root


def element_to_data(element: ET.Element) -> Any:
    """``<a><b>1</b><List>…</List><List>…</List></a>`` → ``{"b": "1", "List": [{…}, {…}]}``."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    data: dict[str, Any] = {}
    for child in children:
        value = element_to_data(child)
        if child.tag == "List":
            data.setdefault("List", []).append(value)
        elif child.tag in data:
            existing = data[child.tag]
            data[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[child.tag] = value
    return data


def parse_body(body: bytes) -> dict[str, Any]:
    """The push as a dict, from XML (the default) or JSON (a Mini Program's data format)."""
    stripped = body.lstrip()
    if stripped.startswith(b"{"):
        if len(body) > MAX_BODY:
            raise CallbackRejected(_("The push is too large."))
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise CallbackRejected(_("The push is not valid JSON.")) from exc
        if not isinstance(data, dict):
            raise CallbackRejected(_("The push is not valid JSON."))
        return data
    parsed = element_to_data(parse_xml(body))
    if not isinstance(parsed, dict):
        raise CallbackRejected(_("The push is empty."))
    return parsed


# --- safe mode --------------------------------------------------------------------------------


def _aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise CallbackRejected(_("The EncodingAESKey is not 43 base64 characters."))
    return key


def decrypt(encrypted: str, *, encoding_aes_key: str, app_id: str) -> bytes:
    """The message inside a safe-mode ``Encrypt``; its trailing appid must be ours."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = _aes_key(encoding_aes_key)
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except ValueError:
        raise CallbackRejected(_("The encrypted push is not base64.")) from None
    if not raw or len(raw) % 16:
        raise CallbackRejected(_("The encrypted push is malformed."))
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(raw) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 32 or len(plain) < 20 + pad:
        raise CallbackRejected(_("The encrypted push is malformed."))
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message, receiver = plain[20 : 20 + length], plain[20 + length :]
    if len(message) != length or not hmac.compare_digest(receiver, app_id.encode()):
        raise CallbackRejected(_("The encrypted push is not for this account."))
    return message


def encrypt(message: bytes, *, encoding_aes_key: str, app_id: str, random: bytes | None = None) -> str:
    """The inverse of :func:`decrypt` (used by the test servers and for encrypted answers)."""
    import os

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = _aes_key(encoding_aes_key)
    plain = (random or os.urandom(16)) + struct.pack(">I", len(message)) + message + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def verified_message(
    *, query: Mapping[str, str], body: bytes, token: str, encoding_aes_key: str = "", app_id: str = ""
) -> dict[str, Any] | None:
    """Check a push and return its message as a dict; ``None`` for the GET check (``echostr``)."""
    if query.get("encrypt_type", "raw") == "aes":
        envelope = parse_body(body)
        encrypted = envelope.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRejected(_("The encrypted push has no Encrypt element."))
        check(query, token, encrypted=encrypted)
        if not encoding_aes_key:
            raise CallbackRejected(_("No EncodingAESKey is configured for safe mode."))
        return parse_body(decrypt(encrypted, encoding_aes_key=encoding_aes_key, app_id=app_id))
    check(query, token)
    if not body.strip():
        if "echostr" in query:
            return None
        raise CallbackRejected(_("The push is empty."))
    return parse_body(body)


def echo_answer(query: Mapping[str, str] | None) -> bytes | None:
    """The ``echostr`` of a verified GET check, if it is a plain token (reflected as text/plain)."""
    echostr = str((query or {}).get("echostr", ""))
    if echostr and len(echostr) <= 128 and echostr.isascii() and echostr.replace("-", "").replace("_", "").isalnum():
        return echostr.encode()
    return None
