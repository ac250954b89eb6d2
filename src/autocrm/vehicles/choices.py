from django.db import models
from django.utils.translation import gettext_lazy as _


class FuelType(models.TextChoices):
    PETROL = "petrol", _("Petrol")
    HYBRID = "hybrid", _("Hybrid")
    ELECTRIC = "electric", _("Battery electric")


class Usage(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    FAMILY = "family", _("Family commuting")
    BUSINESS = "business", _("Business travel")
    OFFROAD = "offroad", _("Off-road / modified")


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
