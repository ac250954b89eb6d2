from django.db import models
from django.utils.translation import gettext_lazy as _


class Item(models.TextChoices):
    """What a service plan schedules (保养项目). Each has its own cycle in the plan."""

    SERVICE = "service", _("Routine service")
    OIL = "oil", _("Engine oil")
    OIL_FILTER = "oil_filter", _("Oil filter")
    AIR_FILTER = "air_filter", _("Air filter")
    CABIN_FILTER = "cabin_filter", _("Cabin filter")
    BRAKE_FLUID = "brake_fluid", _("Brake fluid")
    COOLANT = "coolant", _("Coolant check before winter")
    SPARK_PLUGS = "spark_plugs", _("Spark plugs")
    BATTERY = "battery", _("Battery")
    TYRES = "tyres", _("Tyres")
    BRAKE_PADS = "brake_pads", _("Brake pads")
    EV_CHECK = "ev_check", _("High-voltage system check")


class RateMethod(models.TextChoices):
    """How a vehicle's daily mileage was estimated."""

    READINGS = "readings", _("From its odometer readings")
    DELIVERY = "delivery", _("From one reading and the delivery date")
    SERIES = "series", _("Median of its model's fleet")
    STORE = "store", _("Median of the store's fleet")
    DEFAULT = "default", _("Typical mileage")


class DueBy(models.TextChoices):
    KM = "km", _("Mileage")
    TIME = "time", _("Time")
    SEASON = "season", _("Season")


class RecordSource(models.TextChoices):
    REPAIR_ORDER = "repair_order", _("Repair order")
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("Import")


class RecallStatus(models.TextChoices):
    OPEN = "open", _("Open")
    NOTIFIED = "notified", _("Owner notified")
    COMPLETED = "completed", _("Completed")
