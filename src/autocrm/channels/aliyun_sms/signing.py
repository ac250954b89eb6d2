"""Alibaba Cloud's RPC signature (SignatureVersion 1.0, HMAC-SHA1), as documented ("RPC 签名机制"):
parameters sorted by name, each name and value percent-encoded (RFC 3986: only ``A-Za-z0-9-_.~``
left as they are, space → ``%20``, ``*`` → ``%2A``), joined with ``&``, the whole query encoded once
more into ``METHOD&%2F&…``, signed with ``AccessKeySecret + "&"``, Base64.

Why this and not ACS3-HMAC-SHA256: dysmsapi 2017-05-25 is an RPC API, and the SMS
documentation publishes a worked ``SendSms`` example for exactly this signature (StringToSign and
Signature ``zJDF+Lrzhj/ThnlvIToysFRq6t4=``), which the tests reproduce."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote


def percent_encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign(method, params).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")
