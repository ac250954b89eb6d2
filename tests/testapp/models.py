from django.db import models

from autocrm.core.fields import BlindIndexField, EncryptedTextField
from autocrm.core.models import TenantModel


class Ticket(TenantModel):
    """A small tenant-owned record with an owner, personal data and a cost price."""

    title = models.CharField(max_length=100)
    owner = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    mobile = EncryptedTextField(mask="autocrm.core.masking.mask_mobile")
    mobile_index = BlindIndexField(source="mobile", normalizer="autocrm.core.normalize.normalize_mobile")
    id_number = EncryptedTextField(mask="autocrm.core.masking.mask_id_number")
    id_number_index = BlindIndexField(source="id_number", normalizer="autocrm.core.normalize.normalize_id_number")
    cost_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    scope_owner_field = "owner"

    def __str__(self) -> str:
        return self.title
