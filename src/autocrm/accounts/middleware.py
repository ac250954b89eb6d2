"""Puts ``request.actor`` (user + current store + role) on every request and makes it the
audit actor for the request's duration; slides a signed-in session's expiry at most once a
minute (``AUTOCRM_SESSION_REFRESH_SECONDS``) instead of writing the session on every request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from autocrm.core import audit
from autocrm.core.actor import Actor

from .selectors import actor_build

SESSION_STORE_KEY = "autocrm_store_id"
SESSION_REFRESHED_KEY = "autocrm_refreshed"  # when the session was last written (epoch seconds)


def session_refresh(request: HttpRequest, now: float | None = None) -> bool:
    """Mark a signed-in session to be written (which moves its expiry ``SESSION_COOKIE_AGE``
    ahead and re-sends the cookie) when it was last written over a minute ago. True if marked."""
    session = getattr(request, "session", None)
    if session is None or session.modified or SESSION_KEY not in session:
        return False
    now = time.time() if now is None else now
    every = getattr(settings, "AUTOCRM_SESSION_REFRESH_SECONDS", 60)
    if now - float(session.get(SESSION_REFRESHED_KEY) or 0) < every:
        return False
    session[SESSION_REFRESHED_KEY] = int(now)
    return True


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def build() -> Actor:
            return actor_build(user=request.user, store_id=request.session.get(SESSION_STORE_KEY), request=request)

        # Built on first use; the lazy proxy stands for the Actor it builds (cast: Django's proxy is untyped).
        actor = cast(Actor, SimpleLazyObject(build))
        request.actor = actor  # type: ignore[attr-defined]  # the attribute core.actor.ActorRequest declares
        token = audit.set_actor(actor)
        user = request.user
        if not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
            # Chinese first: the staff UI follows the user's saved choice or the site default,
            # not the browser's language (many staff run English-language browsers). The API
            # keeps Accept-Language, which its clients set on purpose.
            language: str = getattr(user, "language", "") if user.is_authenticated else ""
            if language or not request.path.startswith("/api/"):
                language = language or settings.LANGUAGE_CODE
                translation.activate(language)
                request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
            session_refresh(request)
            return response
        finally:
            audit._current_actor.reset(token)
