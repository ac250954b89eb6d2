"""Puts ``request.actor`` (user + current store + role) on every request and makes it the
audit actor for the request's duration."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from autocrm.core import audit
from autocrm.core.actor import Actor

from .selectors import actor_build

SESSION_STORE_KEY = "autocrm_store_id"


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
            return self.get_response(request)
        finally:
            audit._current_actor.reset(token)
