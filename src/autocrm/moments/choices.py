from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MomentKind(models.TextChoices):
    """The moments a store may greet or remind a customer on (SPEC §4)."""

    BIRTHDAY = "birthday", _("Birthday")
    ANNIVERSARY = "anniversary", _("Car anniversary")  # 提车纪念日
    HOLIDAY = "holiday", pgettext_lazy("care moment", "Holidays")
    WEATHER = "weather", _("Severe weather")
    LICENCE = "licence", _("Driving licence due")
    INSPECTION = "inspection", _("Annual inspection due")
    INSURANCE = "insurance", _("Insurance due")


#: Greetings are marketing (a business greeting its customers is commercial contact: it needs the
#: marketing consent, the caps and the window); reminders of a legal date and weather safety tips
#: are service notices — until a gift rides along, which makes any of them marketing.
GREETINGS = frozenset({MomentKind.BIRTHDAY, MomentKind.ANNIVERSARY, MomentKind.HOLIDAY})

#: The template code each trigger sends by default (the demo creates them).
DEFAULT_TEMPLATE = {
    MomentKind.BIRTHDAY: "moment_birthday",
    MomentKind.ANNIVERSARY: "moment_anniversary",
    MomentKind.HOLIDAY: "moment_holiday",
    MomentKind.WEATHER: "moment_weather",
    MomentKind.LICENCE: "moment_licence",
    MomentKind.INSPECTION: "moment_inspection",
    MomentKind.INSURANCE: "moment_insurance",
}

#: The days before the date a trigger sends by default (0: on the day).
DEFAULT_DAYS_BEFORE = {
    MomentKind.BIRTHDAY: 0,
    MomentKind.ANNIVERSARY: 0,
    MomentKind.HOLIDAY: 1,
    MomentKind.WEATHER: 0,
    MomentKind.LICENCE: 30,
    MomentKind.INSPECTION: 30,
    MomentKind.INSURANCE: 30,
}


class EventStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("club event", "Open")
    CANCELLED = "cancelled", pgettext_lazy("club event", "Cancelled")


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", pgettext_lazy("club registration", "Cancelled")


class RegistrationSource(models.TextChoices):
    STAFF = "staff", _("By staff")
    LINK = "link", _("By the invitation link")
