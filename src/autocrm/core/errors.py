"""Domain errors. The API maps them to the error shape of API.md; the UI to form errors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400
    code = "invalid"
    default_message: Any = _("The request is not valid.")

    def __init__(
        self, message: Any = None, *, fields: dict[str, list[Any]] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        # Extra keys of the API error body, e.g. the duplicates behind a 409.
        self.extra = extra or {}
        super().__init__(str(self.message))


class ValidationError(DomainError):
    """Bad input: nothing was changed."""


class NotFound(DomainError):
    """Missing, or outside the actor's scope: the two are indistinguishable on purpose."""

    status = 404
    code = "not_found"
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    """The record is in scope but the role may not do this."""

    status = 403
    code = "forbidden"
    default_message = _("You do not have permission to do this.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    default_message = _("Authentication is required.")


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"
    default_message = _("Too many requests. Try again later.")

    def __init__(self, message: Any = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
