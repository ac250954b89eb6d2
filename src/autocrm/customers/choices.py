from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class IncomeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    BELOW_10K = "lt10k", _("Below ¥10,000 a month")
    FROM_10K = "10k_30k", _("¥10,000–30,000 a month")
    FROM_30K = "30k_50k", _("¥30,000–50,000 a month")
    ABOVE_50K = "gt50k", _("Above ¥50,000 a month")


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


class ConsentPurpose(models.TextChoices):
    SERVICE = "service", _("Service reminders")
    MARKETING = "marketing", _("Marketing")
    SURVEY = "survey", _("Surveys")


class SourceChannel(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone call")
    WEBSITE = "website", _("Website or mini-program")
    AUTO_SHOW = "auto_show", _("Auto show")
    REFERRAL = "referral", _("Owner referral")
    AUTOHOME = "autohome", _("Autohome (汽车之家)")
    DONGCHEDI = "dongchedi", _("Dongchedi (懂车帝)")
    YICHE = "yiche", _("Yiche (易车)")
    DMS = "dms", _("DMS import")


class Relation(models.TextChoices):
    SELF = "self", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    RELATIVE = "relative", _("Relative")
    DRIVER = "driver", _("Company driver")
    EMPLOYEE = "employee", _("Company employee")


class LifecycleStage(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    NEW = "new", _("New customer")
    RETURNING = "returning", _("Returning customer")
    LOYAL = "loyal", _("Loyal customer")
    LOST = "lost", _("Lost customer")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")
