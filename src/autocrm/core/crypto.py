"""Field encryption (AES-256-GCM with a key id) and HMAC blind indexes.

AUTOCRM_DATA_KEY holds one or more keys, ``kid:base64key`` separated by commas. The first
encrypts; every key decrypts, so a new key can be put first and ``autocrm rotate-keys``
re-encrypts the rows at leisure. Blind indexes are HMAC-SHA256 under a key derived from each
data key; lookups try every key's index, so search keeps working mid-rotation.

Stored form: ``enc:v1:<kid>:<base64(nonce ‖ ciphertext ‖ tag)>``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from binascii import b2a_base64
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

PREFIX = "enc:v1:"


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


@dataclass(frozen=True)
class Key:
    kid: str
    aead: AESGCM
    index_key: bytes
    # HMAC-SHA256 keyed once (RFC 2104: the hashes of key ⊕ ipad and key ⊕ opad); each index copies
    # both. A third of the cost of copying an ``hmac.HMAC``, a quarter of ``hmac.new`` per value.
    index_inner: Any
    index_outer: Any
    aad: bytes = b""  # the key id, bound to every ciphertext


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


@lru_cache(maxsize=8)
def _parse(spec: str) -> tuple[Key, ...]:
    keys: list[Key] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if ":" not in part:
            raise ImproperlyConfigured("AUTOCRM_DATA_KEY entries must look like kid:base64key")
        kid, b64 = part.split(":", 1)
        try:
            raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        except ValueError as exc:
            raise ImproperlyConfigured(f"AUTOCRM_DATA_KEY key {kid!r} is not base64") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured(f"AUTOCRM_DATA_KEY key {kid!r} must be 32 bytes")
        index_key = _derive(raw, b"autocrm blind index")
        keys.append(
            Key(
                kid,
                AESGCM(_derive(raw, b"autocrm field encryption")),
                index_key,
                hashlib.sha256(index_key.translate(_IPAD).ljust(64, b"\x36")),
                hashlib.sha256(index_key.translate(_OPAD).ljust(64, b"\x5c")),
                kid.encode(),
            )
        )
    if not keys:
        raise ImproperlyConfigured("AUTOCRM_DATA_KEY holds no key")
    return tuple(keys)


_current: list[tuple[Key, ...]] = []  # the parsed keys of the current settings (emptied when they change)


def keys() -> tuple[Key, ...]:
    # Reading the setting costs more than an encryption (LazySettings), and this runs for every
    # protected value an import writes; a settings change (tests) empties the cache.
    if not _current:
        _current.append(_parse(settings.AUTOCRM_DATA_KEY))
    return _current[0]


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "AUTOCRM_DATA_KEY":
        _current.clear()


def key_ids() -> list[str]:
    """The configured key ids, the active one first."""
    return [key.kid for key in keys()]


def active_kid() -> str:
    return keys()[0].kid


def encrypt(plaintext: str) -> str:
    key = (_current[0] if _current else keys())[0]
    nonce = os.urandom(12)
    sealed = key.aead.encrypt(nonce, plaintext.encode("utf-8"), key.aad)
    return f"{PREFIX}{key.kid}:{b2a_base64(nonce + sealed, newline=False).decode()}"


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def key_id_of(stored: str) -> str | None:
    if not is_encrypted(stored):
        return None
    return stored[len(PREFIX) :].split(":", 1)[0]


def decrypt(stored: str) -> str:
    if not is_encrypted(stored):
        return stored  # legacy plaintext (before encryption was enabled); rotate-keys encrypts it
    kid, payload = stored[len(PREFIX) :].split(":", 1)
    for key in keys():
        if key.kid == kid:
            raw = base64.b64decode(payload)
            return key.aead.decrypt(raw[:12], raw[12:], kid.encode()).decode("utf-8")
    raise ImproperlyConfigured(f"No data key {kid!r} in AUTOCRM_DATA_KEY to decrypt a stored value")


def blind_index(normalised: str, key: Key | None = None) -> str:
    """HMAC-SHA256 of ``normalised`` under the index key, in hex (what ``hmac.new`` gives)."""
    key = key or keys()[0]
    inner = key.index_inner.copy()
    inner.update(normalised.encode("utf-8"))
    outer = key.index_outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


def blind_index_candidates(normalised: str) -> list[str]:
    """The index of ``normalised`` under every key, for lookups during a rotation."""
    return [blind_index(normalised, key) for key in keys()]
