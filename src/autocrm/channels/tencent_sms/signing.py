"""TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0 ("签名方法 v3"), step by step as the
documentation writes it: canonical request → string to sign → derived key → signature →
``Authorization`` header. ``tests/test_tencent_sms.py`` reproduces the documentation's worked
example (CVM ``DescribeInstances``, timestamp 1551113065) with these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping

ALGORITHM = "TC3-HMAC-SHA256"


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    """The credential scope's date is the UTC date of the timestamp (not Beijing's)."""
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")


def canonical_request(
    *,
    method: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    payload: bytes,
    canonical_uri: str = "/",
    canonical_query: str = "",
) -> str:
    """``headers`` by any case; each signed header as ``name:value`` lower-cased and trimmed,
    sorted by name."""
    lower = {k.lower(): v for k, v in headers.items()}
    names = sorted(h.lower() for h in signed_headers)
    canonical_headers = "".join(f"{n}:{lower[n].strip().lower()}\n" for n in names)
    return "\n".join(
        [method.upper(), canonical_uri, canonical_query, canonical_headers, ";".join(names), _sha256_hex(payload)]
    )


def string_to_sign(*, timestamp: int, service: str, canonical: str) -> str:
    scope = f"{utc_date(timestamp)}/{service}/tc3_request"
    return "\n".join([ALGORITHM, str(timestamp), scope, _sha256_hex(canonical.encode("utf-8"))])


def signature(*, secret_key: str, timestamp: int, service: str, to_sign: str) -> str:
    secret_date = _hmac(("TC3" + secret_key).encode("utf-8"), utc_date(timestamp))
    secret_service = _hmac(secret_date, service)
    secret_signing = _hmac(secret_service, "tc3_request")
    return hmac.new(secret_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    *,
    secret_id: str,
    secret_key: str,
    timestamp: int,
    service: str,
    method: str,
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    payload: bytes,
) -> str:
    canonical = canonical_request(method=method, headers=headers, signed_headers=signed_headers, payload=payload)
    to_sign = string_to_sign(timestamp=timestamp, service=service, canonical=canonical)
    sig = signature(secret_key=secret_key, timestamp=timestamp, service=service, to_sign=to_sign)
    scope = f"{utc_date(timestamp)}/{service}/tc3_request"
    names = ";".join(sorted(h.lower() for h in signed_headers))
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={names}, Signature={sig}"
