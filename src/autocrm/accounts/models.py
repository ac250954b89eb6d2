from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from autocrm.core.fields import EncryptedTextField
from autocrm.core.models import TrackedModel
from autocrm.core.roles import Role

from .choices import UserKind


class User(TrackedModel, AbstractUser):
    """A person on staff, or an integration (another system acting through API tokens).

    Belongs to one organization; what they may do comes from their memberships."""

    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=UserKind.choices, default=UserKind.STAFF)
    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    default_store = models.ForeignKey(
        "tenancy.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    totp_secret = EncryptedTextField(_("TOTP secret"), mask="autocrm.core.masking.mask_generic")
    totp_enabled = models.BooleanField(_("two-factor sign-in"), default=False)

    audit_exclude = ("password", "last_login", "totp_secret", "date_joined")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class Membership(TrackedModel):
    """A user's role in one store, or — for directors and administrators — in every store of
    the organization (``store`` empty)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey("tenancy.Organization", on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey("tenancy.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="membership_one_role_per_store"),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(store__isnull=True), name="membership_one_org_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class LoginAttempt(models.Model):
    """One sign-in attempt (UI or API), kept for lock-out and for the security log."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    success = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["username", "at"], name="loginattempt_user_at")]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M} {'ok' if self.success else 'failed'}"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the secret is shown once at creation.

    Session tokens come from ``POST /api/v1/auth/token`` and expire within hours; integration
    tokens are made by an administrator for an integration user, with scopes and an expiry."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    store = models.ForeignKey("tenancy.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
