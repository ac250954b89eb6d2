"""Fixed-window rate limits counted in the cache all processes share (``CACHES["shared"]``:
Redis when ``REDIS_URL`` is set, else a table of the application database — see
:mod:`autocrm.core.cache`), so every gunicorn worker and web node counts into one total.

One round trip per request (:func:`autocrm.core.cache.counter_hit`: Redis ``INCR`` + ``EXPIRE``
pipelined, or one upsert in the database): cheap enough to run on every API call. Limits are
settings written as ``"<count>/<period>"`` with period ``s``, ``min`` (or ``m``), ``h`` or ``d``:

- ``AUTOCRM_API_RATE_TOKEN`` (default ``600/min``): calls per API token;
- ``AUTOCRM_API_RATE_AUTH`` (default ``20/min``): ``POST /api/v1/auth/token`` calls per client IP.

Going over answers 429 (:class:`~autocrm.core.errors.RateLimited`) with ``Retry-After`` set to
the seconds left in the window. ``AUTOCRM_RATELIMIT_CACHE`` names another cache alias; a cache
local to the process (``locmem``) would let each worker count on its own.

The sign-in lock-out (``accounts.services.login_authenticate``) counts failed sign-ins with the
same counters (``LoginAttempt`` rows stay, as the security log).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches

from .cache import counter_hit
from .errors import RateLimited

DEFAULTS = {
    "AUTOCRM_API_RATE_TOKEN": "600/min",
    "AUTOCRM_API_RATE_AUTH": "20/min",
}
_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → ``(600, 60)``; ``"5/10s"`` → ``(5, 10)``. A count of 0 blocks every call."""
    count, _, period = rate.strip().partition("/")
    period = period.strip().lower() or "min"
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :]
    if unit not in _PERIODS:
        raise ValueError(f"unknown rate period in {rate!r}")
    return int(count), _PERIODS[unit] * (int(digits) if digits else 1)


_RATES: dict[tuple[str, str], tuple[int, int]] = {}


def rate_for(setting: str) -> tuple[int, int]:
    """The parsed limit of ``setting`` (parsed once per value, not on every call)."""
    raw = str(getattr(settings, setting, None) or DEFAULTS[setting])
    found = _RATES.get((setting, raw))
    if found is None:
        found = _RATES[(setting, raw)] = parse_rate(raw)
    return found


def counter_cache() -> BaseCache:
    """The cache the counts live in: ``AUTOCRM_RATELIMIT_CACHE`` (default ``"shared"``)."""
    alias = getattr(settings, "AUTOCRM_RATELIMIT_CACHE", "shared")
    return caches[alias if alias in settings.CACHES else "default"]


@dataclass(frozen=True)
class Window:
    """One call's place in a fixed window: the counter's key and expiry, and what to do with
    its count (:meth:`enforce`). Lets a caller count in a round trip it makes anyway
    (``accounts.auth`` counts a token's calls with the read of its user entry)."""

    key: str
    timeout: int
    limit: int
    retry_at: float  # the window's end (epoch seconds)
    now: float

    def enforce(self, count: int) -> int:
        """``count`` (the counter after this call); :class:`RateLimited` once past ``limit``."""
        if count > self.limit:
            raise RateLimited(retry_after=max(1, math.ceil(self.retry_at - self.now)))
        return count


def window_of(key: str, *, limit: int, window: int, now: float | None = None) -> Window:
    now = time.time() if now is None else now
    bucket = int(now // window)
    return Window(f"autocrm:rl:{key}:{window}:{bucket}", window + 1, limit, float((bucket + 1) * window), now)


def window_for(setting: str, key: str) -> Window:
    """The window of the limit named by ``setting`` (see the module docstring) for ``key``."""
    limit, window = rate_for(setting)
    return window_of(f"{setting}:{key}", limit=limit, window=window)


def hit(key: str, *, limit: int, window: int, now: float | None = None, cache: BaseCache | None = None) -> int:
    """Count one call against ``key`` in the current window; the count so far.

    Raises :class:`RateLimited` (with ``retry_after``) once the count passes ``limit``."""
    cache = counter_cache() if cache is None else cache
    found = window_of(key, limit=limit, window=window, now=now)
    count, _expires = counter_hit(found.key, timeout=found.timeout, cache=cache)
    return found.enforce(count)


def check(setting: str, key: str) -> int:
    """Apply the limit named by ``setting`` (see the module docstring) to ``key``."""
    limit, window = rate_for(setting)
    return hit(f"{setting}:{key}", limit=limit, window=window)
