"""Access tokens shared by every worker of a deployment.

WeChat (Official Account, Mini Program) and WeCom authenticate each API call with an
``access_token`` valid for about two hours, fetched with the account's secret. Each fetch is
rate-limited by the provider (2,000 a day for an Official Account) and, with the ordinary
``cgi-bin/token`` endpoint, *replaces* the previous token: a worker fetching on its own would
make every other worker's token fail. So the token lives in the shared cache
(:func:`autocrm.core.cache.shared_cache`: Redis, or the database table), one entry per account,
and is fetched by one worker at a time under a lock (``cache.add``, atomic in both backends):

* ``get()`` answers the cached token while it has more than :data:`REFRESH_MARGIN` seconds
  left, otherwise refreshes it (so a call never goes out with a token about to lapse);
* ``refresh(rejected=token)`` is what a client calls once when the provider says the token is
  invalid or expired (40001, 40014, 42001): if another worker already replaced it, the new one
  is used without any fetch.

A worker that does not get the lock waits (polling the cache) for the one that did, at most
:data:`LOCK_WAIT` seconds, then gives up with a retryable :class:`ChannelError`.

Cache keys (in the shared cache, whose own prefix applies): ``channels:wechat:token:<appid>``
and ``channels:wecom:token:<corpid>:<agentid>``, each with ``:lock`` for the lock.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import BaseCache

from autocrm.core.cache import shared_cache

from ..base import ChannelError

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300.0  # seconds before the provider's expiry at which a token is replaced
LOCK_TIMEOUT = 30  # seconds a crashed fetcher can hold the lock
LOCK_WAIT = 10.0  # seconds a worker waits for another worker's fetch
POLL = 0.05

# fetch(force) -> (token, expires_in seconds). ``force`` asks the provider for a new token even
# if its current one has not expired (the cached one was rejected).
Fetcher = Callable[[bool], tuple[str, float]]


class TokenManager:
    """One account's token in the shared cache. Cheap to build: state lives in the cache."""

    def __init__(
        self,
        key: str,
        fetch: Fetcher,
        *,
        cache: BaseCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.lock_key = f"{key}:lock"
        self._fetch = fetch
        self._cache = cache
        self._clock = clock

    @property
    def cache(self) -> BaseCache:
        return self._cache if self._cache is not None else shared_cache()

    def _cached(self) -> dict[str, Any] | None:
        entry = self.cache.get(self.key)
        if isinstance(entry, dict) and isinstance(entry.get("token"), str) and "expires_at" in entry:
            return entry
        return None

    def _fresh(self, entry: dict[str, Any] | None, rejected: str | None) -> str | None:
        if entry is None or entry["token"] == rejected:
            return None
        refresh_at = float(entry.get("refresh_at", float(entry["expires_at"]) - REFRESH_MARGIN))
        if refresh_at <= self._clock():
            return None
        return str(entry["token"])

    def get(self) -> str:
        """A token with more than five minutes left (fetched if the cache has none)."""
        token = self._fresh(self._cached(), None)
        return token if token is not None else self._refresh(None)

    def refresh(self, *, rejected: str) -> str:
        """A token other than ``rejected`` (which the provider refused)."""
        return self._refresh(rejected)

    def forget(self) -> None:
        self.cache.delete(self.key)

    def _refresh(self, rejected: str | None) -> str:
        cache = self.cache
        owner = secrets.token_hex(8)
        deadline = self._clock() + LOCK_WAIT
        while True:
            if cache.add(self.lock_key, owner, timeout=LOCK_TIMEOUT):
                try:
                    # Another worker may have refreshed between our read and the lock.
                    token = self._fresh(self._cached(), rejected)
                    if token is not None:
                        return token
                    token, expires_in = self._fetch(False)
                    if token == rejected:
                        # The provider handed the refused token back (stable_token's ordinary
                        # mode keeps a token until it expires): ask for a new one.
                        token, expires_in = self._fetch(True)
                    expires_in = max(float(expires_in), 1.0)
                    now = self._clock()
                    # Replaced five minutes early; a token handed out with less than ten minutes
                    # left (WeCom answers the same token until it lapses) at half its life, so
                    # the last minutes do not fetch on every call.
                    early = min(REFRESH_MARGIN, expires_in / 2)
                    entry = {"token": token, "expires_at": now + expires_in, "refresh_at": now + expires_in - early}
                    cache.set(self.key, entry, timeout=max(int(expires_in), 1))
                    log.info("access token refreshed for %s (expires in %ss)", self.key, int(expires_in))
                    return token
                finally:
                    if cache.get(self.lock_key) == owner:
                        cache.delete(self.lock_key)
            token = self._fresh(self._cached(), rejected)
            if token is not None:
                return token
            if self._clock() >= deadline:
                raise ChannelError("retry", "token_lock", "another worker is fetching the access token")
            time.sleep(POLL)
