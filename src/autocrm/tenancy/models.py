from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from autocrm.core.models import StoreScopedManager, TrackedModel
from autocrm.core.modules import default_choices, effective


class Organization(TrackedModel):
    """A dealer group (经销商集团) or service chain: the top tenant. Users belong to exactly one."""

    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name


class Store(TrackedModel):
    """One brand at one site (4S店) or one service outlet. Every tenant-owned row points here.

    For scope purposes the store is its own store (``scope_store_field = "pk"``): a manager
    sees their store, a director every store of the organization."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="stores")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    brand = models.CharField(_("brand"), max_length=60)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=100, blank=True, default="08:30-18:00")
    is_active = models.BooleanField(_("active"), default=True)
    # Modules switched on here ({key: bool}, see core.modules); a key not set takes the
    # module's default. Changed only through ``tenancy.services.store_modules_set``.
    modules = models.JSONField(_("modules"), default=default_choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_store_field = "pk"
    objects = StoreScopedManager()

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="store_code_unique_in_org")]
        ordering = ["organization_id", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def modules_on(self) -> frozenset[str]:
        """The module keys switched on in this store."""
        return effective(self.modules)
