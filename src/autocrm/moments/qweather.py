"""A client of QWeather's (和风天气) severe weather alerts, per store city.

The request (dev.qweather.com, "实时天气预警", the v1 API that replaced ``/v7/warning/now``,
retired on 2026-10-01): ``GET https://<API Host>/weatheralert/v1/current/{latitude}/{longitude}
?localTime=true&lang=zh`` with ``Authorization: Bearer <JWT>``. The JWT is signed with the
project's Ed25519 private key: header ``{"alg": "EdDSA", "kid": <credential id>}``, payload
``{"sub": <project id>, "iat": now − 30 s, "exp": iat + 15 min}``; the console keeps the public
key. Answers are gzip-compressed JSON: ``metadata.zeroResult`` (no alert) and ``alerts[]`` with
``id``, ``messageType.code`` (new/update/cancel), ``eventType`` {name, code}, ``severity``,
``color.code``, ``headline``, ``description``, ``issuedTime``, ``expireTime``.

Nothing here knows customers or the outbox: :func:`alerts` turns one call into :class:`Alert`
values; ``services.weather_check`` decides what to tell whom."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings

TIMEOUT = 5.0
TOKEN_LIFETIME = 900


class WeatherError(Exception):
    """The provider could not be asked or answered something we cannot read."""


@dataclass(frozen=True)
class Credentials:
    api_host: str  # "abcxyz.qweatherapi.com" or, in tests, "http://127.0.0.1:port"
    project_id: str
    key_id: str
    private_key_pem: str


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str  # new, update, cancel
    type_code: str
    type_name: str
    severity: str
    colour: str
    headline: str
    description: str
    issued_at: dt.datetime | None


def credentials() -> Credentials | None:
    """From settings (``QWEATHER_API_HOST``, ``QWEATHER_PROJECT_ID``, ``QWEATHER_KEY_ID``,
    ``QWEATHER_PRIVATE_KEY``): None when not configured (the weather moment then does nothing)."""
    host = getattr(settings, "QWEATHER_API_HOST", "")
    project = getattr(settings, "QWEATHER_PROJECT_ID", "")
    key_id = getattr(settings, "QWEATHER_KEY_ID", "")
    pem = getattr(settings, "QWEATHER_PRIVATE_KEY", "")
    if not (host and project and key_id and pem):
        return None
    return Credentials(host, project, key_id, pem)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def token(creds: Credentials, *, now: float | None = None) -> str:
    """The EdDSA-signed JWT QWeather checks."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(creds.private_key_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WeatherError("QWEATHER_PRIVATE_KEY is not an Ed25519 key")
    iat = int(now if now is not None else time.time()) - 30
    header = _b64(json.dumps({"alg": "EdDSA", "kid": creds.key_id}, separators=(",", ":")).encode())
    payload = _b64(json.dumps({"sub": creds.project_id, "iat": iat, "exp": iat + TOKEN_LIFETIME},
                              separators=(",", ":")).encode())  # fmt: skip
    signature = key.sign(f"{header}.{payload}".encode("ascii"))
    return f"{header}.{payload}.{_b64(signature)}"


def parse_location(text: str) -> tuple[str, str] | None:
    """``"30.66,104.07"`` (latitude, longitude; at most two decimals, as QWeather takes them)."""
    parts = [p.strip() for p in (text or "").split(",")]
    if len(parts) != 2:
        return None
    try:
        lat, lon = Decimal(parts[0]), Decimal(parts[1])
    except InvalidOperation:
        return None
    if not (lat.is_finite() and lon.is_finite() and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    q = Decimal("0.01")
    return str(lat.quantize(q)), str(lon.quantize(q))


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int) -> str:
    return str(value)[:limit] if isinstance(value, (str, int)) else ""


def alerts(creds: Credentials, location: tuple[str, str], *, timeout: float = TIMEOUT) -> list[Alert]:
    """The alerts in force at ``location`` now (empty: none)."""
    host = creds.api_host.rstrip("/")
    base = host if host.startswith(("http://", "https://")) else f"https://{host}"
    url = f"{base}/weatheralert/v1/current/{location[0]}/{location[1]}?localTime=true&lang=zh"
    request = urllib.request.Request(url, headers={  # noqa: S310 (https, or the test server)
        "Authorization": f"Bearer {token(creds)}", "Accept-Encoding": "gzip", "User-Agent": "autocrm",
    })  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 (https, or the test server)
            body = answer.read(2_000_000)
            if answer.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
    except urllib.error.HTTPError as exc:
        raise WeatherError(f"QWeather answered HTTP {exc.code}") from None
    except (OSError, EOFError) as exc:
        raise WeatherError(f"QWeather could not be reached: {exc}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise WeatherError("QWeather answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise WeatherError("QWeather answered an unexpected shape")
    out = []
    for row in data.get("alerts") or []:
        if not isinstance(row, dict) or not _text(row.get("id"), 80):
            continue
        event, message, colour = (_obj(row.get(k)) for k in ("eventType", "messageType", "color"))
        out.append(Alert(
            id=_text(row.get("id"), 80), kind=_text(message.get("code"), 10) or "new",
            type_code=_text(event.get("code"), 10), type_name=_text(event.get("name"), 40),
            severity=_text(row.get("severity"), 20), colour=_text(colour.get("code"), 10),
            headline=_text(row.get("headline"), 200), description=_text(row.get("description"), 2000),
            issued_at=_when(row.get("issuedTime")),
        ))  # fmt: skip
    return out


#: CMA alert type codes and the hazard whose driving tips they call for.
HAZARD_CODES = {"1001": "typhoon", "1003": "rain", "1004": "snow", "1009": "heat", "1017": "snow"}
HAZARD_WORDS = (("台风", "typhoon"), ("暴雨", "rain"), ("暴雪", "snow"), ("道路结冰", "snow"), ("高温", "heat"))


def hazard_of(alert: Alert) -> str:
    """``rain``, ``snow``, ``heat`` or ``typhoon`` for the alerts we tell drivers about, else ""."""
    if alert.type_code in HAZARD_CODES:
        return HAZARD_CODES[alert.type_code]
    for word, hazard in HAZARD_WORDS:
        if word in alert.type_name or word in alert.headline:
            return hazard
    return ""
