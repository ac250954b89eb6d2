from django.db import models
from django.utils.translation import gettext_lazy as _


class FuelType(models.TextChoices):
    PETROL = "petrol", _("Petrol (燃油)")
    HYBRID = "hybrid", _("Hybrid (混动)")
    ELECTRIC = "electric", _("Battery electric (纯电)")


class Usage(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    FAMILY = "family", _("Family commuting (家用代步)")
    BUSINESS = "business", _("Business travel (商务出行)")
    OFFROAD = "offroad", _("Off-road / modified (越野改装)")


class PlateKind(models.TextChoices):
    NONE = "", _("No plate")
    REGULAR = "regular", _("Regular")
    NEW_ENERGY = "new_energy", _("New energy")


class ReadingSource(models.TextChoices):
    RECEPTION = "reception", _("Service reception")
    DELIVERY = "delivery", _("Delivery")
    OWNER = "owner", _("Reported by owner")
    IMPORT = "import", _("Import")
    CORRECTION = "correction", _("Correction")
